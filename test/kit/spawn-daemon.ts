/**
 * The daemon as systemd runs it: `node dist/src/cli.js run` in its own process, configured only by
 * its environment. The child gets a minimal environment (no inherited NODE_OPTIONS from tap, no
 * proxy or token variables from the developer's shell), plus what the test passes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineWaiter, type LogLine } from './log-capture.js';

export type { LogLine };

/** The repository root: the nearest directory above this file with a package.json (also from dist/test). */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const CLI = join(ROOT, 'dist/src/cli.js');

/** The only variables the child inherits from the test process. */
const PASS_THROUGH = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ'];

export function daemonEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PASS_THROUGH) {
    const v = process.env[name];
    if (v !== undefined) out[name] = v;
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() at exit. */
  at: number;
}

export interface SpawnedDaemon {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  stdout(): string;
  stderr(): string;
  /** The JSON lines seen on stdout so far (non-JSON lines are skipped). */
  logs(): LogLine[];
  waitForLog(event: string, match?: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<Exit>;
  /** Sends the signal; SIGKILLs the process if it has not exited by `timeoutMs` later. */
  signal(sig: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** Waits for the process to exit by itself; SIGKILLs it after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<Exit>;
  /** SIGKILL if still running (teardown). */
  kill(): Promise<void>;
}

export function spawnDaemon(env: Record<string, string | undefined>, args: string[] = ['run']): SpawnedDaemon {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: daemonEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    waiter.changed();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolvePromise) => {
    // 'close' rather than 'exit': stdout and stderr are fully read by then.
    child.once('close', (code, signal) => resolvePromise({ code, signal, at: Date.now() }));
  });
  let done = false;
  void exited.then(() => {
    done = true;
    waiter.changed();
  });
  const logs = (): LogLine[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      });
  const waiter = lineWaiter(logs, () => (done ? `daemon exited (stderr: ${err.slice(-2000)})` : undefined));
  return {
    child,
    pid: child.pid ?? -1,
    startedAt,
    stdout: () => out,
    stderr: () => err,
    logs,
    exited,
    waitForLog: (event, match, timeoutMs = 15_000) => waiter.waitFor(event, match, timeoutMs),
    async signal(sig, timeoutMs = 30_000) {
      if (!done) child.kill(sig);
      return this.waitForExit(timeoutMs);
    },
    async waitForExit(timeoutMs = 30_000) {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
    async kill() {
      if (!done) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs the daemon until it exits by itself (bad configuration and the like). */
export async function runToExit(
  env: Record<string, string | undefined>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const d = spawnDaemon(env);
  const timer = setTimeout(() => d.child.kill('SIGKILL'), timeoutMs);
  const exit = await d.exited;
  clearTimeout(timer);
  return { code: exit.code, signal: exit.signal, stdout: d.stdout(), stderr: d.stderr(), ms: exit.at - d.startedAt };
}
