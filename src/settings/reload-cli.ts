import { ConfigError, EXIT_CONFIG } from '../config.js';
import { ControlDeniedError, controlRequest, controlSocketPath, NotAnsweringError } from '../control/client.js';
import { EXIT_NOT_RUNNING } from '../control/status-cli.js';
import type { ReloadOutcome } from './reload.js';

/** Reading a file and loading command modules: seconds at most, but never waited on forever (systemd gives ExecReload= 90 s). */
const RELOAD_TIMEOUT_MS = 60_000;

/**
 * `toodles reload`, what the unit's ExecReload= runs: asks the daemon over its control socket and
 * waits for the outcome, so that a bad file fails `systemctl reload` with the reason (one line).
 * Exit 0 reloaded, 78 refused (the running settings are kept), 3 no daemon answered.
 */
export async function runReload(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  if (args.length) {
    process.stderr.write(`toodles reload: unknown argument "${args[0]}" (it takes none)\n`);
    return 64;
  }
  let outcome: ReloadOutcome;
  try {
    outcome = (await controlRequest(controlSocketPath(env), 'POST', '/reload', undefined, RELOAD_TIMEOUT_MS))
      .body as unknown as ReloadOutcome;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`toodles reload: bad configuration: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    if (!(err instanceof ControlDeniedError || err instanceof NotAnsweringError)) throw err;
    process.stderr.write(`toodles reload: ${err.message}\n`);
    return EXIT_NOT_RUNNING;
  }
  if (!outcome.ok) {
    process.stderr.write(`toodles reload: refused, the running settings are kept: ${outcome.error}\n`);
    return EXIT_CONFIG;
  }
  process.stdout.write(`toodles reload: ${reloadSummary(outcome)}\n`);
  return 0;
}

function reloadSummary(o: Extract<ReloadOutcome, { ok: true }>): string {
  const parts = [o.changed.length ? `${o.changed.join(', ')} now in force` : 'no live setting changed'];
  if (o.moduleCommands) parts.push(`commands from modules: ${o.moduleCommands.join(', ') || 'none'}`);
  if (o.restartNeeded.length)
    parts.push(`${o.restartNeeded.join(', ')} take${o.restartNeeded.length === 1 ? 's' : ''} effect at the next restart`);
  if (o.ignored.length) parts.push(`${o.ignored.length} line(s) ignored as systemd ignores them (toodles config check shows which)`);
  return `reloaded: ${parts.join('; ')}`;
}
