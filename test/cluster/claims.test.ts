import t from 'tap';
import { performance } from 'node:perf_hooks';
import { Database } from '../../src/database/database.js';
import { migrate } from '../../src/database/migrate.js';
import { ClaimsTable } from '../../src/cluster/claims.js';
import { InstancesTable } from '../../src/cluster/instances.js';
import { CLUSTER_MIGRATIONS } from '../../src/cluster/schema.js';
import type { IncomingActivity } from '../../src/webex/types.js';
import { startPostgres } from '../kit/postgres.js';
import { captureLog } from '../kit/log-capture.js';

const pgServer = await startPostgres();
t.teardown(() => pgServer.close());

async function open(t: { teardown(fn: () => unknown): void }) {
  const db = new Database({ url: pgServer.url(await pgServer.createDatabase()), log: captureLog().logger, applicationName: 'claims-test' });
  t.teardown(() => db.close());
  await migrate(db, CLUSTER_MIGRATIONS);
  return db;
}

const activity = (id: string): IncomingActivity => ({ id, kind: 'message', actorId: 'person-1', roomId: 'room-1' });

t.test('one winner, renewal only by the owner, takeover of an expired claim at most maxTakeovers times', async (t) => {
  const db = await open(t);
  const [a, b, c] = ['a/1', 'b/1', 'c/1'].map((owner) => new ClaimsTable(db, owner)) as [ClaimsTable, ClaimsTable, ClaimsTable];
  const won = await Promise.all([a, b, c].map((x) => x.claim(activity('m1'), 10_000)));
  t.equal(won.filter(Boolean).length, 1, 'one atomic insert, one winner');
  const owner = [a, b, c][won.indexOf(true)]!;
  const other = [a, b, c][(won.indexOf(true) + 1) % 3]!;
  t.equal(await owner.renew('m1', 10_000), true, 'the owner renews');
  t.equal(await other.renew('m1', 10_000), false, 'nobody else can');
  t.same(await other.takeOver(10_000, 2, 10), [], 'a live claim is not taken over');

  const expire = (id: string) =>
    db.query('expire', `UPDATE claims SET deadline = now() - interval '1 second' WHERE activity_id = $1`, [id]);
  t.equal(await a.claim(activity('m2'), 10_000), true);
  await expire('m2');
  const [first, second] = await Promise.all([b.takeOver(10_000, 2, 10), c.takeOver(10_000, 2, 10)]);
  const taken = [...first, ...second];
  t.equal(taken.length, 1, 'two sweepers at once: one takes it');
  t.same(taken[0]?.activity, activity('m2'), 'with the activity as payload');
  t.equal(taken[0]?.previousOwner, 'a/1');
  t.equal(await a.renew('m2', 10_000), false, 'the old owner has lost it');
  await expire('m2');
  t.equal((await a.takeOver(10_000, 2, 10)).length, 1, 'a second takeover');
  await expire('m2');
  t.same(await b.takeOver(1, 2, 10), [], 'no third: a claim that keeps killing its handlers is left alone');
});

t.test("settle: a held claim becomes done, an id answered alone is inserted as done, even over another owner's claim", async (t) => {
  const db = await open(t);
  const a = new ClaimsTable(db, 'a/1');
  const b = new ClaimsTable(db, 'b/1');
  await a.claim(activity('held'), 10_000);
  await b.claim(activity('theirs'), 10_000);
  await a.settle(['held', 'alone', 'theirs']);
  await a.settle([]);
  const rows = await db.query<{ activity_id: string; owner: string; done: boolean }>(
    'read',
    'SELECT activity_id, owner, done_at IS NOT NULL AS done FROM claims ORDER BY activity_id',
  );
  t.same(rows, [
    { activity_id: 'alone', owner: 'a/1', done: true },
    { activity_id: 'held', owner: 'a/1', done: true },
    { activity_id: 'theirs', owner: 'a/1', done: true },
  ]);
  t.equal(await b.renew('theirs', 10_000), false, 'its owner cannot renew it: its fence would withhold a reply');
  t.equal(await a.claim(activity('alone'), 10_000), false, 'an id answered alone cannot be claimed again');
  t.same(await b.takeOver(1, 2, 10), [], 'nor taken over');
});

t.test('retention: claims and instance rows older than the retention go', async (t) => {
  const db = await open(t);
  const a = new ClaimsTable(db, 'a/1');
  await a.claim(activity('old'), 10_000);
  await db.query('age', `UPDATE claims SET claimed_at = now() - interval '31 minutes'`);
  await a.claim(activity('new'), 10_000);
  t.equal(await a.prune(30 * 60_000), 1);
  const left = await db.query<{ activity_id: string }>('read', 'SELECT activity_id FROM claims');
  t.same(left, [{ activity_id: 'new' }]);
  const me = new InstancesTable(db, { owner: 'a/1', name: 'a', version: '1', startedAt: Date.now() });
  const peer = new InstancesTable(db, { owner: 'b/1', name: 'b', version: '1', startedAt: Date.now() });
  await peer.heartbeat(30_000);
  t.same(await me.heartbeat(30_000), ['b'], 'a peer seen');
  await db.query('age', `UPDATE instances SET last_seen = now() - interval '1 hour' WHERE owner = 'b/1'`);
  t.same(await me.heartbeat(30_000), [], 'not any more once silent');
  await me.prune(30 * 60_000);
  const rows = await db.query<{ owner: string }>('read', 'SELECT owner FROM instances');
  t.same(rows, [{ owner: 'a/1' }]);
});

t.test("the claim's added latency on loopback", async (t) => {
  const db = await open(t);
  const [a, b] = [new ClaimsTable(db, 'a/1'), new ClaimsTable(db, 'b/1')];
  for (let i = 0; i < 50; i += 1) await a.claim(activity(`warm-${i}`), 10_000); // connections open, plans cached
  const times: number[] = [];
  const won: boolean[] = [];
  for (let i = 0; i < 1_000; i += 1) {
    const started = performance.now();
    won.push(await (i % 2 ? b : a).claim(activity(`m-${i >> 1}`), 10_000)); // every id claimed twice: a win, then a loss
    times.push(performance.now() - started);
  }
  t.same(
    won,
    Array.from({ length: 1_000 }, (_, i) => i % 2 === 0),
    'each id won by its first claim, lost by its second',
  );
  times.sort((x, y) => x - y);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  t.comment(
    `claim round trip over ${times.length} claims (half won, half lost): p50 ${p(0.5).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms, max ${p(1).toFixed(2)} ms (measured, not asserted: bench:cluster reports it against its target)`,
  );
});
