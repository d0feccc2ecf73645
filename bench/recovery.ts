/**
 * bench:recovery: every outage kind at 10 s and 60 s (and 5 min with --long), against the daemon at
 * its default settings (paced recovery) and, side by side in the same run, with the policy it had
 * before (full jitter to 60 s, 20 s connect timeout, 25 s liveness, 15 s pings) as the baseline.
 * Prints per kind and length: detection time, time to answering after the lift (p50/max over the
 * repeats) and attempts per minute during the outage (average and peak).
 *
 *   npm run bench:recovery [-- --long] [--repeats N] [--parallel N] [--only 'zombie socket,proxy down'] [--lengths 10,60]
 *
 * Default: 2 repeats, 4 kinds at a time (each on its own simulator), about 7 minutes; more at once
 * load a small machine enough to skew the seconds measured.
 */
import { Backoff, DEFAULT_BACKOFF } from './backoff.js';
import type { DaemonTuning } from '../src/daemon/daemon.js';
import { OUTAGES, runOutage, type OutageResult } from '../test/kit/outages.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const repeats = Number(flag('--repeats') ?? 2);
const parallel = Number(flag('--parallel') ?? 4);
const lengths = (flag('--lengths') ?? (args.includes('--long') ? '10,60,300' : '10,60')).split(',').map(Number);
const only = flag('--only')?.split(',');
const kinds = OUTAGES.filter((k) => !only || only.includes(k.name));

const POLICIES: Array<{ name: string; tuning: DaemonTuning }> = [
  { name: 'paced', tuning: {} },
  {
    name: 'baseline',
    tuning: {
      retry: () => new Backoff(DEFAULT_BACKOFF),
      timings: { connectTimeoutMs: 20_000, livenessTimeoutMs: 25_000 },
      // The old daemon's pings, not DAEMON_MERCURY: this side stands for the policy before paced recovery.
      mercury: { pingInterval: 15_000, pongTimeout: 14_000 },
    },
  },
];

// The SDK leaves rejections behind on purpose-made faults; the daemon handles its own, this is the bench's.
process.on('unhandledRejection', () => undefined);

const fmt = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
};

async function measure(kind: (typeof OUTAGES)[number], seconds: number, tuning: DaemonTuning): Promise<OutageResult[]> {
  const results: OutageResult[] = [];
  for (let i = 0; i < repeats; i++) {
    try {
      results.push(await runOutage({ kind, outageMs: seconds * 1000, tuning, answerTimeoutMs: 120_000 }));
    } catch (err) {
      results.push({
        kind: kind.name,
        outageMs: seconds * 1000,
        answerMs: Infinity,
        attempts: NaN,
        perMinute: NaN,
        peakPerMinute: NaN,
        requests: NaN,
        statuses: [],
      });
      console.error(`${kind.name} ${seconds}s: ${(err as Error).message}`);
    }
  }
  return results;
}

function row(policy: string, rs: OutageResult[]): string {
  const answers = rs.map((r) => r.answerMs);
  const detects = rs.flatMap((r) => (r.detectMs === undefined ? [] : [r.detectMs]));
  return [
    policy.padEnd(9),
    `detect ${fmt(detects.length ? median(detects) : undefined)}`.padEnd(14),
    `answer p50 ${fmt(median(answers))} max ${fmt(Math.max(...answers))}`.padEnd(30),
    `attempts ${median(rs.map((r) => r.perMinute)).toFixed(1)}/min (peak ${Math.max(...rs.map((r) => r.peakPerMinute))} in 60 s;`,
    `Webex saw ${median(rs.map((r) => (r.requests * 60_000) / r.outageMs)).toFixed(1)} requests/min)`,
  ].join(' ');
}

console.log(
  `bench:recovery: ${kinds.length} outage kinds x ${lengths.join('/')} s, ${repeats} repeats, paced vs baseline, ${parallel} kinds at a time`,
);
const started = Date.now();
for (const seconds of lengths) {
  for (let i = 0; i < kinds.length; i += parallel) {
    // Each run has its own simulator and daemon; both policies and a few kinds run side by side.
    const batch = kinds.slice(i, i + parallel);
    const results = await Promise.all(batch.map((kind) => Promise.all(POLICIES.map((p) => measure(kind, seconds, p.tuning)))));
    batch.forEach((kind, j) => {
      const [paced, baseline] = results[j]!;
      console.log(`\n${kind.name}, ${seconds} s outage`);
      console.log(`  ${row('paced', paced!)}`);
      console.log(`  ${row('baseline', baseline!)}`);
    });
  }
}
console.log(`\ndone in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
process.exit(0);
