/**
 * bench:cluster (issue 14): three daemon processes as one bot, claims in a real PostgreSQL, 20 pings/s
 * for 5 minutes while one instance is killed -9 and restarted every 30 s (round robin) and the
 * database is restarted once, midway between two kills. Side by side in the same run, on a
 * simulator of its own, the baseline: one instance without a database under the same kill schedule.
 *
 *   npm run bench:cluster
 *   npm run bench:cluster -- --duration 40 --rate 20 --kill-every 10 [--db-restart-at 25|never] [--settle 40]
 *   (or BENCH_CLUSTER_DURATION_S, _RATE, _KILL_EVERY_S, _DB_RESTART_AT_S, _SETTLE_S)
 *
 * Prints for each: messages sent, answered exactly once (%), twice or more, never, the longest gap
 * between consecutive answers, answer latency p50/p99/max (the simulator's clock, question to first
 * answer), the claim's added latency p50/p99 (from the instances' /metrics histogram of claims, when
 * they have one), and database load in transactions per message (pg_stat_database.xact_commit).
 * A benchmark, not a test: exits 0 unless the run itself broke (test/cluster/bench.test.ts runs it short).
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startSimulator } from '../src/simulator/index.js';
import { daemonCluster, type DaemonCluster, type Member } from '../test/kit/daemon-cluster.js';
import { PingTraffic } from '../test/kit/ping-traffic.js';
import { startPostgres } from '../test/kit/postgres.js';
import { sleep } from '../test/kit/wait.js';

export interface ClusterBenchOptions {
  durationMs: number;
  /** Messages per second, to each of the two systems. */
  rate: number;
  killEveryMs: number;
  /** When the database restarts (ms into the run); undefined: never. */
  dbRestartAtMs?: number;
  /** After the last message, how long stragglers may take to be answered. */
  settleMs: number;
}

/** Midway between the two kills around the middle of the run, so no instance is starting then. */
export const defaultDbRestart = (durationMs: number, killEveryMs: number) =>
  Math.floor(durationMs / 2 / killEveryMs) * killEveryMs + killEveryMs / 2;

export const DEFAULTS: ClusterBenchOptions = {
  durationMs: 300_000,
  rate: 20,
  killEveryMs: 30_000,
  dbRestartAtMs: defaultDbRestart(300_000, 30_000),
  settleMs: 40_000,
};

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

export interface SystemFigures {
  name: string;
  sent: number;
  once: number;
  exactlyOncePct: number;
  /** Answered twice or more. */
  more: number;
  mostAnswers: number;
  never: number;
  /** When the messages not answered exactly once were sent, ms into the run (to set beside the kills). */
  strays: { moreAtMs: number[]; neverAtMs: number[] };
  longestGapMs: number;
  /** When the longest gap began, ms into the run. */
  longestGapAtMs: number;
  latencyMs: Quantiles;
  /** The claim's own latency, from the histogram `source`; undefined when the instances have none. */
  claim?: { p50Ms: number; p99Ms: number; count: number; source: string };
  /** Claim outcomes summed over every process (toodles_claims_total by result), when the instances count them. */
  outcomes?: Record<string, number>;
  /** Database transactions per message sent (all instances, heartbeats and sweeps included); undefined without a database. */
  queriesPerMessage?: number;
  kills: number;
}

export interface ClusterBenchResult {
  cluster: SystemFigures;
  baseline: SystemFigures;
}

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** A Prometheus histogram's buckets: upper bound (seconds) -> cumulative count. */
type Buckets = Map<number, number>;

/** The first histogram in a /metrics text whose name mentions claims, with its buckets summed over label sets. */
export function claimHistogram(text: string): { name: string; buckets: Buckets } | undefined {
  let name: string | undefined;
  const buckets: Buckets = new Map();
  for (const m of text.matchAll(/^(\w*claim\w*_seconds)_bucket\{(?:[^}]*,)?le="([^"]+)"[^}]*\} (\S+)$/gm)) {
    name ??= m[1]!;
    if (m[1] !== name) continue;
    const le = m[2] === '+Inf' ? Infinity : Number(m[2]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[3]));
  }
  return name ? { name, buckets } : undefined;
}

/** The q-quantile from cumulative buckets, interpolated linearly within the bucket it falls in (ms). */
export function bucketQuantileMs(buckets: Buckets, q: number): number {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (!total) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const count = buckets.get(le)!;
    if (count >= rank) {
      if (le === Infinity) return lower * 1000;
      return (lower + ((le - lower) * (rank - below)) / Math.max(1, count - below)) * 1000;
    }
    lower = le;
    below = count;
  }
  return NaN;
}

/** A counter of claims by `result` in a /metrics text, e.g. {won: 12, lost: 24}. */
export function claimOutcomes(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^\w*claims?_total\{(?:[^}]*,)?result="(\w+)"[^}]*\} (\S+)$/gm))
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  return out;
}

/** Each process's last /metrics text: scraped before it is killed and at the end. */
class MetricsKeeper {
  private readonly last = new Map<number, string>();

  async scrape(m: Member): Promise<void> {
    if (!m.metricsUrl) return;
    try {
      const res = await fetch(`${m.metricsUrl}/metrics`, { signal: AbortSignal.timeout(2_000) });
      this.last.set(m.process.pid, await res.text());
    } catch {
      // a wedged or dying instance: its figures since the last scrape are lost, the rest stand
    }
  }

  outcomes(): SystemFigures['outcomes'] {
    const sum: Record<string, number> = {};
    for (const text of this.last.values()) for (const [k, n] of Object.entries(claimOutcomes(text))) sum[k] = (sum[k] ?? 0) + n;
    return Object.keys(sum).length ? sum : undefined;
  }

  claim(): SystemFigures['claim'] {
    const sum: Buckets = new Map();
    let name: string | undefined;
    for (const text of this.last.values()) {
      const h = claimHistogram(text);
      if (!h) continue;
      name ??= h.name;
      for (const [le, n] of h.buckets) sum.set(le, (sum.get(le) ?? 0) + n);
    }
    if (!name) return undefined;
    return {
      p50Ms: bucketQuantileMs(sum, 0.5),
      p99Ms: bucketQuantileMs(sum, 0.99),
      count: sum.get(Infinity) ?? 0,
      source: `/metrics ${name}`,
    };
  }
}

/**
 * pg_stat_database.xact_commit of one database across a restart. Sessions report their last
 * transactions as they close, and a clean shutdown keeps the counters, so what rose during the
 * restart belongs to the run; had the server reset them, counting resumes from where they start.
 */
class TransactionCounter {
  private total = 0;
  private from = 0;
  private paused = 0;

  constructor(private readonly url: string) {}

  async read(): Promise<number> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      const r = await client.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
      return Number(r.rows[0]!.n);
    } finally {
      await client.end();
    }
  }

  async begin(): Promise<void> {
    this.from = await this.read();
  }

  /** Before the server restarts. */
  async pause(): Promise<void> {
    this.paused = await this.read();
    this.total += this.paused - this.from;
  }

  /** After it is back. */
  async resume(): Promise<void> {
    const now = await this.read();
    this.from = now >= this.paused ? this.paused : now;
  }

  async end(): Promise<number> {
    return this.total + (await this.read()) - this.from;
  }
}

interface System {
  name: string;
  cluster: DaemonCluster;
  traffic: PingTraffic;
  metrics: MetricsKeeper;
  names: string[];
  kills: number;
}

async function killAndRestart(s: System, report: (line: string) => void, at: number): Promise<void> {
  const victim = s.cluster.member(s.names[s.kills % s.names.length]!);
  s.kills += 1;
  await s.metrics.scrape(victim);
  await s.cluster.kill9(victim.name);
  const killed = Date.now();
  try {
    await s.cluster.start(victim.name);
    report(
      `${(at / 1000).toFixed(0).padStart(4)} s  ${s.name}: ${victim.name} killed -9, back online in ${((Date.now() - killed) / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    report(`${(at / 1000).toFixed(0).padStart(4)} s  ${s.name}: ${victim.name} killed -9, did not come back: ${(err as Error).message}`);
  }
}

function figures(s: System, began: number, queries?: number): SystemFigures {
  const t = s.traffic.tally();
  const answers = s.traffic.answers();
  const latencies: number[] = [];
  const firsts: number[] = [];
  for (const q of s.traffic.asked) {
    const first = answers.get(q.id)?.[0];
    if (first === undefined) continue;
    latencies.push(first - q.at);
    firsts.push(first);
  }
  firsts.sort((a, b) => a - b);
  const sentAt = (n: (count: number) => boolean) => s.traffic.asked.filter((q) => n(answers.get(q.id)!.length)).map((q) => q.at - began);
  let gap = 0;
  let gapAt = 0;
  for (let i = 1; i < firsts.length; i++) {
    if (firsts[i]! - firsts[i - 1]! > gap) [gap, gapAt] = [firsts[i]! - firsts[i - 1]!, firsts[i - 1]! - began];
  }
  return {
    name: s.name,
    sent: t.sent,
    once: t.once,
    exactlyOncePct: (100 * t.once) / Math.max(1, t.sent),
    more: t.more,
    mostAnswers: t.mostAnswers,
    never: t.never,
    strays: { moreAtMs: sentAt((n) => n > 1), neverAtMs: sentAt((n) => n === 0) },
    longestGapMs: gap,
    longestGapAtMs: gapAt,
    latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1) },
    claim: s.metrics.claim(),
    outcomes: s.metrics.outcomes(),
    queriesPerMessage: queries === undefined ? undefined : queries / Math.max(1, t.sent),
    kills: s.kills,
  };
}

export async function measureCluster(
  o: ClusterBenchOptions = DEFAULTS,
  report: (line: string) => void = () => undefined,
): Promise<ClusterBenchResult> {
  const pgServer = await startPostgres();
  const sims = await Promise.all([startSimulator({ port: 0 }), startSimulator({ port: 0 })]);
  const databaseUrl = pgServer.url(await pgServer.createDatabase('bench_cluster'));
  const system = (name: string, names: string[], i: number, url?: string): System => {
    const cluster = daemonCluster({ sim: sims[i]!, names, databaseUrl: url, metrics: true, logLevel: 'info' });
    return { name, cluster, traffic: new PingTraffic(sims[i]!), metrics: new MetricsKeeper(), names, kills: 0 };
  };
  const systems = [system('cluster', ['a', 'b', 'c'], 0, databaseUrl), system('baseline', ['solo'], 1)];
  const [cluster, baseline] = systems as [System, System];
  const xacts = new TransactionCounter(databaseUrl);
  try {
    await Promise.all(systems.map((s) => s.cluster.startAll()));
    await xacts.begin();
    const began = Date.now();
    for (const s of systems) s.traffic.start(o.rate);
    const events: Array<{ at: number; run: () => Promise<void> }> = [];
    for (let at = o.killEveryMs; at < o.durationMs; at += o.killEveryMs) {
      events.push({ at, run: async () => void (await Promise.all(systems.map((s) => killAndRestart(s, report, at)))) });
    }
    if (o.dbRestartAtMs !== undefined && o.dbRestartAtMs < o.durationMs) {
      const at = o.dbRestartAtMs;
      events.push({
        at,
        run: async () => {
          await xacts.pause();
          const t0 = Date.now();
          await pgServer.restart();
          await xacts.resume();
          report(`${(at / 1000).toFixed(0).padStart(4)} s  database restarted (${((Date.now() - t0) / 1000).toFixed(1)} s down)`);
        },
      });
    }
    // Each event starts on time, whether or not the one before has finished (a slow restart included).
    const running = events.map(async (e) => {
      await sleep(began + e.at - Date.now());
      await e.run();
    });
    await sleep(began + o.durationMs - Date.now());
    for (const s of systems) s.traffic.stop();
    await Promise.all(running);
    await Promise.all(systems.map((s) => s.traffic.allAnswered(o.settleMs)));
    await sleep(3_000); // late second answers
    for (const s of systems) for (const m of s.cluster.members) await s.metrics.scrape(m);
    // Stopped instances close their sessions, and a closing session reports its last transactions.
    await Promise.all(systems.map((s) => s.cluster.close()));
    await sleep(1_500);
    const queries = await xacts.end();
    return { cluster: figures(cluster, began, queries), baseline: figures(baseline, began) };
  } finally {
    await Promise.all(systems.map((s) => s.cluster.close()));
    await Promise.all(sims.map((s) => s.stop()));
    await pgServer.close();
  }
}

/** Moments in seconds into the run, those less than 2 s apart as one stretch: "120.0-134.9 s (300), 150.0 s". */
export function when(atMs: number[]): string {
  const stretches: Array<{ from: number; to: number; n: number }> = [];
  for (const at of [...atMs].sort((a, b) => a - b)) {
    const last = stretches.at(-1);
    if (last && at - last.to < 2_000) Object.assign(last, { to: at, n: last.n + 1 });
    else stretches.push({ from: at, to: at, n: 1 });
  }
  const s = (x: number) => (x / 1000).toFixed(1);
  const shown = stretches.slice(0, 6).map((r) => (r.n === 1 ? `${s(r.from)} s` : `${s(r.from)}-${s(r.to)} s (${r.n})`));
  return shown.join(', ') + (stretches.length > 6 ? ', ...' : '');
}

const ms = (x: number) => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms` : '-');

/** The figures as a table: one row per figure, the cluster and the baseline side by side. */
export function table(r: ClusterBenchResult): string[] {
  const rows: Array<[string, (f: SystemFigures) => string]> = [
    ['messages sent', (f) => String(f.sent)],
    ['answered exactly once', (f) => `${f.exactlyOncePct.toFixed(2)} % (${f.once})`],
    ['answered twice or more', (f) => (f.more ? `${f.more} (up to ${f.mostAnswers} times), sent at ${when(f.strays.moreAtMs)}` : '0')],
    ['never answered', (f) => (f.never ? `${f.never}, sent at ${when(f.strays.neverAtMs)}` : '0')],
    ['longest gap in answers', (f) => `${(f.longestGapMs / 1000).toFixed(2)} s (at ${(f.longestGapAtMs / 1000).toFixed(0)} s)`],
    ['answer latency p50/p99/max', (f) => `${ms(f.latencyMs.p50)} / ${ms(f.latencyMs.p99)} / ${ms(f.latencyMs.max)}`],
    [
      'claim latency p50/p99',
      (f) => (f.claim ? `${ms(f.claim.p50Ms)} / ${ms(f.claim.p99Ms)} (${f.claim.count} claims, ${f.claim.source})` : 'unavailable'),
    ],
    [
      'claims (all processes)',
      (f) =>
        f.outcomes
          ? Object.entries(f.outcomes)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')
          : '-',
    ],
    ['db transactions/message', (f) => (f.queriesPerMessage === undefined ? 'no database' : f.queriesPerMessage.toFixed(2))],
    ['instances killed -9', (f) => String(f.kills)],
  ];
  const head = ['', 'cluster (3 + PostgreSQL)', 'baseline (1, no database)'];
  const lines = [head, ...rows.map(([label, cell]) => [label, cell(r.cluster), cell(r.baseline)])];
  const w0 = Math.max(...lines.map((l) => l[0]!.length));
  const w1 = Math.max(...lines.map((l) => l[1]!.length));
  const added = r.cluster.latencyMs.p50 - r.baseline.latencyMs.p50;
  return [
    ...lines.map((l) => `${l[0]!.padEnd(w0)}  ${l[1]!.padEnd(w1)}  ${l[2]}`),
    `end-to-end p50, cluster minus baseline: ${Number.isFinite(added) ? `${added >= 0 ? '+' : ''}${added.toFixed(1)} ms` : '-'}`,
  ];
}

/** `--name VALUE`, else BENCH_CLUSTER_NAME(_S), else the fallback (already in ms); durations given in seconds. */
function setting(args: string[], env: NodeJS.ProcessEnv, name: string, fallback: number | undefined, scale = 1000): number | undefined {
  const i = args.indexOf(`--${name}`);
  const raw = i >= 0 ? args[i + 1] : env[`BENCH_CLUSTER_${name.toUpperCase().replace(/-/g, '_')}${scale === 1000 ? '_S' : ''}`];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'never') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: expected a positive number (got "${raw}")`);
  return value * scale;
}

/** The options from the command line and the environment; the database restart defaults to midway between two kills. */
export function benchOptions(args: string[], env: NodeJS.ProcessEnv = {}): ClusterBenchOptions {
  const durationMs = setting(args, env, 'duration', DEFAULTS.durationMs)!;
  const killEveryMs = setting(args, env, 'kill-every', DEFAULTS.killEveryMs)!;
  return {
    durationMs,
    rate: setting(args, env, 'rate', DEFAULTS.rate, 1)!,
    killEveryMs,
    dbRestartAtMs: setting(args, env, 'db-restart-at', defaultDbRestart(durationMs, killEveryMs)),
    settleMs: setting(args, env, 'settle', DEFAULTS.settleMs)!,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const o = benchOptions(process.argv.slice(2), process.env);
  console.log(
    `bench:cluster: 3 instances on PostgreSQL vs 1 without, ${o.rate} msgs/s each for ${o.durationMs / 1000} s, ` +
      `one instance killed -9 and restarted every ${o.killEveryMs / 1000} s (round robin), ` +
      `database restarted ${o.dbRestartAtMs === undefined ? 'never' : `at ${o.dbRestartAtMs / 1000} s`}`,
  );
  measureCluster(o, (line) => console.log(line)).then(
    (r) => {
      console.log('');
      for (const line of table(r)) console.log(line);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
