import { ConfigError, EXIT_CONFIG } from '../config.js';
import { ControlDeniedError, controlRequest, controlSocketPath, NotAnsweringError } from './client.js';
import { renderStatus, type StatusDocument } from './status.js';

/** LSB's "program is not running" for status actions. */
export const EXIT_NOT_RUNNING = 3;

/** `toodles status [--json]`: one screen (or the JSON document) from the running daemon. */
export async function runStatus(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const json = args.includes('--json');
  const unknown = args.filter((a) => a !== '--json');
  if (unknown.length) {
    process.stderr.write(`toodles status: unknown argument "${unknown[0]}" (only --json)\n`);
    return 64;
  }
  let path: string;
  try {
    path = controlSocketPath(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`toodles status: bad configuration: ${err.message}\n`);
    return EXIT_CONFIG;
  }
  let body: Record<string, unknown>;
  try {
    ({ body } = await controlRequest(path, 'GET', '/status'));
  } catch (err) {
    if (err instanceof ControlDeniedError) process.stdout.write(`toodles: ${err.message}\n`);
    else if (err instanceof NotAnsweringError) process.stdout.write(`toodles: ${err.message}; see \`systemctl status toodles\`\n`);
    else throw err;
    // Also when denied: to a monitoring plugin 3 is UNKNOWN, which is what a user who may not ask knows.
    return EXIT_NOT_RUNNING;
  }
  process.stdout.write(json ? `${JSON.stringify(body, null, 2)}\n` : `${renderStatus(body as unknown as StatusDocument)}\n`);
  return 0;
}
