// Command modules: the team's own commands, loaded from TOODLES_COMMANDS_DIR beside the built-in
// ones. The API modules are written against is api.ts (published as `toodles/command-api`).
import type { CommandRegistry } from '../bot/registry.js';
import { loadCommandModules, type LoadedModules, type ModuleDeps } from './load.js';

export { loadCommandModules, isModuleFile, type LoadedModules, type ModuleDeps, type ModuleProblem } from './load.js';

/**
 * Loads the modules in `dir` and puts their commands in the registry in place of the previous ones
 * (the built-ins stay): at start, and again at a reload. Each module left out is one error in the log.
 */
export async function installModules(registry: CommandRegistry, dir: string, deps: Omit<ModuleDeps, 'reserved'>): Promise<LoadedModules> {
  const started = Date.now();
  const loaded = await loadCommandModules(dir, { ...deps, reserved: registry.builtInWords() });
  for (const { file, why } of loaded.problems) deps.log.error({ event: 'module.skipped', dir, file, why });
  registry.replaceModules(loaded.commands);
  deps.log.info({
    event: 'modules.loaded',
    dir,
    commands: loaded.commands.map((c) => c.keyword),
    skipped: loaded.problems.length,
    durationMs: Date.now() - started,
  });
  return loaded;
}
