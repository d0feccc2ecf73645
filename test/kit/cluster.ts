/**
 * Several in-process daemons on one simulator and one real PostgreSQL database: the cluster as the
 * tests see it. Each member is a full daemon (real SDK, own device, own captured log).
 */
import pg from 'pg';
import type { Command } from '../../src/bot/command.js';
import type { ClusterTimings } from '../../src/cluster/cluster.js';
import type { DaemonTuning } from '../../src/daemon/daemon.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { FAST, startHarness, type Harness } from './daemon-harness.js';
import type { TestPostgres } from './postgres.js';
import { sleep } from './wait.js';

/** Leases of a second or two instead of ten: the same protocol, fast enough for a test. */
export const CLUSTER_FAST: NonNullable<DaemonTuning['cluster']> = {
  timings: {
    leaseMs: 2_000,
    renewEveryMs: 500,
    fenceMarginMs: 600,
    sweepEveryMs: 250,
    heartbeatEveryMs: 300,
    peersWindowMs: 3_000,
    logEveryMs: 1_000,
    pruneEveryMs: 1_000,
    prepareWaitMs: 2_000,
    awayAfterMs: 1_000,
  },
  database: { queryTimeoutMs: 2_000, probeMinMs: 100, probeMaxMs: 400 },
};

export interface TestCluster {
  sim: Simulator;
  database: string;
  url: string;
  members: Map<string, Harness>;
  member(name: string): Harness;
  /** Starts one more member (or a restarted one) on the same simulator and database. */
  add(name: string, commands?: Command[]): Promise<Harness>;
  /** A direct connection for assertions on the tables. */
  sql<R extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

export async function startCluster(opts: {
  pg: TestPostgres;
  names: string[];
  preferred: string;
  commands?: (name: string) => Command[];
  env?: (name: string) => Record<string, string>;
  url?: (name: string, url: string) => string;
  /** Over CLUSTER_FAST's. */
  timings?: Partial<ClusterTimings>;
}): Promise<TestCluster> {
  const sim = await startSimulator({ port: 0 });
  const database = await opts.pg.createDatabase();
  const url = opts.pg.url(database);
  const members = new Map<string, Harness>();
  const client = new pg.Pool({ connectionString: url, max: 1 });
  // Tests stop and restart the server under it: an idle connection cut then is expected, not a failure.
  client.on('error', () => undefined);
  const add = async (name: string, commands = opts.commands?.(name) ?? []) => {
    const h = await startHarness({
      sim,
      env: {
        TOODLES_DATABASE_URL: opts.url?.(name, url) ?? url,
        TOODLES_INSTANCE: name,
        TOODLES_PREFERRED_INSTANCE: opts.preferred,
        ...opts.env?.(name),
      },
      tuning: { ...FAST, extraCommands: commands, cluster: { ...CLUSTER_FAST, timings: { ...CLUSTER_FAST.timings, ...opts.timings } } },
    });
    members.set(name, h);
    return h;
  };
  // All at once, like VMs booting together on an empty database.
  await Promise.all(opts.names.map((n) => add(n)));
  return {
    sim,
    database,
    url,
    members,
    member: (name) => members.get(name)!,
    add,
    sql: async <R extends pg.QueryResultRow>(text: string, params?: unknown[]) => (await client.query<R>(text, params)).rows,
    async stop() {
      await Promise.all([...members.values()].map((h) => h.stop().catch(() => undefined)));
      await client.end();
      await sim.stop();
    },
  };
}

/** Waits until every one of these messages has a reply, then a little longer for any second one. */
export async function allAnswered(sim: Simulator, ids: string[], timeoutMs = 20_000, settleMs = 1_500): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (ids.some((id) => sim.repliesTo(id).length === 0) && Date.now() < end) await sleep(50);
  await sleep(settleMs);
}

/** How many of these messages got 0, 1, 2... replies. */
export function answerCounts(sim: Simulator, ids: string[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const id of ids) {
    const n = sim.repliesTo(id).length;
    counts[n] = (counts[n] ?? 0) + 1;
  }
  return counts;
}

/**
 * A `slow` command that hangs on instance `a` until released (the instance that claimed and then
 * stalled or died) and answers elsewhere after `elsewhereMs`, naming who answered; with `replyFirst`
 * it answers first and then hangs on a (an instance that died after answering).
 */
export function stallingOnA(
  t: { teardown(fn: () => void): void },
  elsewhereMs = 0,
  opts: { replyFirst?: boolean } = {},
): { commands: (name: string) => Command[]; release: () => void } {
  let release = () => undefined as void;
  const stuck = new Promise<void>((r) => (release = r));
  t.teardown(() => release());
  const commands = (name: string): Command[] => [
    {
      keyword: 'slow',
      description: opts.replyFirst ? 'answers, then hangs on a' : 'hangs on a, answers elsewhere',
      run: async (ctx) => {
        const answer = () => ctx.reply({ markdown: `slow answered by ${name}` });
        if (opts.replyFirst) await answer();
        await (name === 'a' ? stuck : sleep(elsewhereMs));
        if (!opts.replyFirst) await answer();
      },
    },
  ];
  return { commands, release: () => release() };
}
