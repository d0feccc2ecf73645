/** bench:reconnect's options, from flags or the matching BENCH_* variables. */
import type { Strategy } from './protocol.js';

export interface Options {
  reconnects: number;
  rate: number;
  intervalMs: number;
  drainMs: number;
  settleMs: number;
  quietMs: number;
  warmup: number;
  /** Cold starts of each bot, timed to the first pong (0: none). */
  starts: number;
  only?: Strategy;
  gc: boolean;
}

export function parseOptions(argv: string[]): Options {
  const env = process.env;
  const get = (flag: string, envName: string): string | undefined => {
    const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i >= 0) {
      const a = argv[i]!;
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    }
    return env[envName];
  };
  const num = (flag: string, envName: string, fallback: number, min: number): number => {
    const raw = get(flag, envName);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min) throw new Error(`${flag}: expected a number >= ${min}, got "${raw}"`);
    return v;
  };
  const known = [
    '--reconnects',
    '--rate',
    '--interval-ms',
    '--drain-ms',
    '--settle-ms',
    '--quiet-ms',
    '--warmup',
    '--starts',
    '--only',
    '--no-gc',
  ];
  for (const a of argv) {
    if (a.startsWith('--') && !known.includes(a.split('=')[0]!)) throw new Error(`unknown option ${a} (known: ${known.join(' ')})`);
  }
  const only = get('--only', 'BENCH_ONLY');
  if (only !== undefined && only !== 'A' && only !== 'B') throw new Error(`--only: A or B, got "${only}"`);
  const o: Options = {
    reconnects: Math.floor(num('--reconnects', 'BENCH_RECONNECTS', 200, 0)),
    rate: num('--rate', 'BENCH_RATE', 20, 0.1),
    intervalMs: num('--interval-ms', 'BENCH_INTERVAL_MS', 150, 100),
    drainMs: num('--drain-ms', 'BENCH_DRAIN_MS', 100, 0),
    settleMs: num('--settle-ms', 'BENCH_SETTLE_MS', 10_000, 0),
    quietMs: num('--quiet-ms', 'BENCH_QUIET_MS', 1_500, 0),
    warmup: Math.floor(num('--warmup', 'BENCH_WARMUP', 20, 0)),
    starts: Math.floor(num('--starts', 'BENCH_STARTS', 5, 0)),
    only,
    gc: !argv.includes('--no-gc') && env.BENCH_GC !== '0',
  };
  if (o.drainMs >= o.intervalMs) throw new Error('--drain-ms must be shorter than --interval-ms (the daemon refuses otherwise)');
  return o;
}
