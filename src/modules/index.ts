// Command modules: the team's own commands, loaded from TOODLES_COMMANDS_DIR beside the built-in
// ones. The API modules are written against is api.ts (published as `toodles/command-api`).
import type { CommandRegistry } from '../bot/registry.js';
import { loadCommandModules, type LoadedModules, type ModuleDeps } from './load.js';

export { loadCommandModules, isModuleFile, type LoadedModules, type ModuleDeps, type ModuleProblem } from './load.js';

/** Modules loaded and checked, not yet answering: `install()` puts them in the registry in place of the previous ones. */
export interface StagedModules {
  loaded: LoadedModules;
  install(): void;
}

/** Loads the modules in `dir` without touching the registry: a reload installs them only when every one is good. */
export async function stageModules(registry: CommandRegistry, dir: string, deps: Omit<ModuleDeps, 'reserved'>): Promise<StagedModules> {
  const started = Date.now();
  const loaded = await loadCommandModules(dir, { ...deps, reserved: registry.builtInWords() });
  return {
    loaded,
    install: () => {
      registry.replaceModules(loaded.commands);
      deps.log.info({
        event: 'modules.loaded',
        dir,
        commands: loaded.commands.map((c) => c.keyword),
        skipped: loaded.problems.length,
        durationMs: Date.now() - started,
      });
    },
  };
}

/**
 * Loads the modules in `dir` and puts their commands in the registry in place of the previous ones
 * (the built-ins stay), at start. Each module left out is one error in the log.
 */
export async function installModules(registry: CommandRegistry, dir: string, deps: Omit<ModuleDeps, 'reserved'>): Promise<LoadedModules> {
  const staged = await stageModules(registry, dir, deps);
  for (const { file, why } of staged.loaded.problems) deps.log.error({ event: 'module.skipped', dir, file, why });
  staged.install();
  return staged.loaded;
}
