/**
 * bench:cluster's measuring, kept from rotting: the claim-latency reader against a real prom-client
 * histogram, and the whole benchmark run for a few seconds (both systems, one kill each, the
 * database restarted once). Figures are checked for consistency, not for targets: the benchmark
 * reports, test/cluster/processes.test.ts asserts exactly-once.
 */
import t from 'tap';
import { Counter, Histogram, Registry } from 'prom-client';
import {
  benchOptions,
  bucketQuantileMs,
  claimHistogram,
  claimOutcomes,
  DEFAULTS,
  measureCluster,
  table,
  when,
} from '../../bench/cluster.js';
t.setTimeout(240_000);

t.test('claim latency and outcomes are read from /metrics', async (t) => {
  const registry = new Registry();
  const h = new Histogram({
    name: 'toodles_claim_duration_seconds',
    help: 'claims',
    labelNames: ['outcome'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.05],
    registers: [registry],
  });
  for (let i = 0; i < 90; i++) h.observe({ outcome: 'won' }, 0.0015);
  for (let i = 0; i < 9; i++) h.observe({ outcome: 'lost' }, 0.004);
  h.observe({ outcome: 'won' }, 0.03);
  const other = new Histogram({ name: 'toodles_command_duration_seconds', help: 'x', registers: [registry] });
  other.observe(5);
  const found = claimHistogram(await registry.metrics());
  t.equal(found?.name, 'toodles_claim_duration_seconds', 'the claims histogram, not another');
  t.equal(found?.buckets.get(Infinity), 100, 'both label sets summed');
  const p50 = bucketQuantileMs(found!.buckets, 0.5);
  const p99 = bucketQuantileMs(found!.buckets, 0.99);
  t.ok(p50 > 1 && p50 <= 2, `p50 in the 1-2 ms bucket (${p50})`);
  t.ok(p99 > 2 && p99 <= 5, `p99 in the 2-5 ms bucket (${p99})`);
  t.equal(claimHistogram(await new Registry().metrics()), undefined, 'no histogram: unavailable');
  const results = new Counter({ name: 'toodles_claims_total', help: 'claims', labelNames: ['result'], registers: [registry] });
  results.inc({ result: 'won' }, 3);
  results.inc({ result: 'lost' }, 6);
  t.same(claimOutcomes(await registry.metrics()), { won: 3, lost: 6 }, 'outcomes by result');
  t.ok(Number.isNaN(bucketQuantileMs(new Map(), 0.5)), 'no observations: no figure');
});

t.test('options from flags, then the environment, then the defaults', async (t) => {
  t.same(benchOptions([]), DEFAULTS, "the issue's run: 5 min at 20/s, a kill every 30 s");
  t.equal(DEFAULTS.dbRestartAtMs, 165_000, 'the database restarts midway between the kills at 150 s and 180 s');
  t.same(benchOptions(['--duration', '40', '--kill-every', '10', '--rate', '5']), {
    durationMs: 40_000,
    rate: 5,
    killEveryMs: 10_000,
    dbRestartAtMs: 25_000,
    settleMs: DEFAULTS.settleMs,
  });
  const fromEnv = benchOptions(['--settle', '5'], {
    BENCH_CLUSTER_DURATION_S: '60',
    BENCH_CLUSTER_RATE: '2',
    BENCH_CLUSTER_DB_RESTART_AT_S: 'never',
  });
  t.same(fromEnv, { durationMs: 60_000, rate: 2, killEveryMs: 30_000, dbRestartAtMs: undefined, settleMs: 5_000 });
  t.throws(() => benchOptions(['--rate', 'fast']), /--rate: expected a positive number \(got "fast"\)/);
});

t.test('strays are shown as stretches of time', async (t) => {
  t.equal(when([121_000, 120_000, 122_500, 150_000]), '120.0-122.5 s (3), 150.0 s');
  t.equal(when([1, 3, 5, 7, 9, 11, 13].map((s) => s * 1000)), '1.0 s, 3.0 s, 5.0 s, 7.0 s, 9.0 s, 11.0 s, ...');
  t.equal(when([]), '');
});

t.test('a short run measures both systems', async (t) => {
  const r = await measureCluster({ durationMs: 8_000, rate: 5, killEveryMs: 4_000, dbRestartAtMs: 6_000, settleMs: 8_000 }, (line) =>
    t.comment(line),
  );
  for (const line of table(r)) t.comment(line);
  for (const f of [r.cluster, r.baseline]) {
    t.ok(f.sent >= 30 && f.sent <= 45, `${f.name}: about 5/s for 8 s sent (${f.sent})`);
    t.equal(f.once + f.more + f.never, f.sent, `${f.name}: every message counted in one class`);
    t.equal(f.kills, 1, `${f.name}: one kill at 4 s`);
    t.ok(
      f.latencyMs.p50 >= 0 && f.latencyMs.p50 <= f.latencyMs.p99 && f.latencyMs.p99 <= f.latencyMs.max,
      `${f.name}: latency quantiles in order`,
    );
    t.ok(f.longestGapMs > 0, `${f.name}: a longest gap`);
  }
  t.ok(r.cluster.queriesPerMessage !== undefined && r.cluster.queriesPerMessage >= 0, 'database load measured for the cluster');
  t.equal(r.baseline.queriesPerMessage, undefined, 'and not for the baseline, which has no database');
  t.equal(r.baseline.claim, undefined, 'the baseline claims nothing');
});
