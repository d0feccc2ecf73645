import { request } from 'node:http';
import { join } from 'node:path';
import { bounded } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import { runtimeDir } from '../config.js';
import { CONTROL_SOCKET } from './server.js';

/** Every request to the daemon is bounded: a daemon that does not answer is reported, never waited on. */
export const CONTROL_TIMEOUT_MS = 2_000;

/** No daemon answered on the socket (none running, none listening, or too slow). */
export class NotAnsweringError extends Error {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`no toodles daemon answers on ${path} (${why})`);
    this.name = 'NotAnsweringError';
  }
}

/** The socket is there but this user may not use it (mode 0660, group toodles): not the same as no daemon. */
export class ControlDeniedError extends Error {
  constructor(readonly path: string) {
    super(`permission denied: run as root or a member of group toodles (${path})`);
    this.name = 'ControlDeniedError';
  }
}

/** Where the daemon's socket is: the same settings the daemon reads, else where the unit puts it. */
export function controlSocketPath(env: Record<string, string | undefined> = process.env): string {
  return join(runtimeDir(env) ?? '/run/toodles', CONTROL_SOCKET);
}

export async function controlRequest(
  socketPath: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = CONTROL_TIMEOUT_MS,
): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    return await bounded(
      `control ${method} ${path}`,
      (signal) =>
        new Promise((resolve, reject) => {
          const req = request({ socketPath, method, path, signal, headers: { 'content-type': 'application/json' } }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (d: string) => (text += d));
            res.on('end', () => {
              try {
                resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
              } catch {
                reject(new Error(`answered ${res.statusCode} with something other than JSON`));
              }
            });
            res.on('error', reject);
          });
          req.on('error', reject);
          req.end(body === undefined ? undefined : JSON.stringify(body));
        }),
      { timeoutMs },
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new ControlDeniedError(socketPath);
    const why = code === 'ENOENT' ? 'no socket there' : code === 'ECONNREFUSED' ? 'nothing listening' : errorText(err);
    throw new NotAnsweringError(socketPath, why);
  }
}
