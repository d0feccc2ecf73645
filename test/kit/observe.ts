/** Test helpers for what operators see: the CLI's status and canary, /healthz and /metrics. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, daemonEnv, ROOT } from './spawn-daemon.js';
import type { Harness } from './daemon-harness.js';
import { sleep } from './wait.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node dist/src/cli.js ARGS` with only the given environment; as another `user` (through runuser: the tests run as root). */
export function cli(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { user?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const started = Date.now();
  // tap's process-info hook rides along in NODE_OPTIONS and would write to .tap/ as that user.
  const [file, argv] = opts.user
    ? ['runuser', ['-u', opts.user, '--', 'env', '-u', 'NODE_OPTIONS', process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  return new Promise((resolve) => {
    execFile(file, argv, { cwd: ROOT, env: daemonEnv(env), timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** tap's `skip` for a test that runs the CLI as another user. */
export const skipUnlessRoot = process.getuid?.() !== 0 && 'needs root to run the CLI as another user';

/** A fresh runtime directory, removed by the test's teardown. */
export function runtimeDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Where the harness's metrics listener ended up (it asks for port 0). */
export async function metricsBase(h: Harness): Promise<string> {
  const line = await h.waitForLog('metrics.listening');
  return `http://${String(line.host)}:${String(line.port)}`;
}

export async function healthz(base: string): Promise<{ status: number; body: { ok: boolean; state: string; reason?: string } }> {
  const res = await fetch(`${base}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; state: string; reason?: string } };
}

/** The value of one series in the Prometheus text (`name{labels}` exactly as printed), or undefined. */
export async function metric(base: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** /metrics is rendered at most once a second: waits until `series` reads `want` (or 5 s pass); returns the last reading. */
export async function metricBecomes(base: string, series: string, want: number, timeoutMs = 5_000): Promise<number | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await metric(base, series);
    if (v === want || Date.now() > end) return v;
    await sleep(100);
  }
}

/** Lets the one-second rendering of /metrics expire, so the next read is current (for baselines). */
export const metricsSettle = () => sleep(1_100);
