import t from 'tap';
import { Database } from '../../src/database/database.js';
import { migrate } from '../../src/database/migrate.js';
import { ClaimsTable } from '../../src/cluster/claims.js';
import { ClaimFencedError, HeldClaim } from '../../src/cluster/held.js';
import { CLUSTER_MIGRATIONS } from '../../src/cluster/schema.js';
import { fencedApi, underClaim } from '../../src/cluster/fence.js';
import { staggerMs } from '../../src/cluster/stagger.js';
import { Throttled } from '../../src/cluster/throttle.js';
import type { WebexApi } from '../../src/webex/types.js';
import { startPostgres } from '../kit/postgres.js';
import { captureLog } from '../kit/log-capture.js';

const pgServer = await startPostgres();
t.teardown(() => pgServer.close());

const LEASE = 10_000;

async function setup(t: { teardown(fn: () => unknown): void }, answersAlone = false) {
  const { logger, lines } = captureLog();
  const db = new Database({
    url: pgServer.url(await pgServer.createDatabase()),
    log: logger,
    applicationName: 'held-test',
    probeMinMs: 50,
    probeMaxMs: 100,
  });
  t.teardown(() => db.close());
  await migrate(db, CLUSTER_MIGRATIONS);
  const mine = new ClaimsTable(db, 'a/1');
  const theirs = new ClaimsTable(db, 'b/1');
  let clock = 0;
  let fenced = 0;
  await mine.claim({ id: 'm1', kind: 'message', actorId: 'p', roomId: 'r' }, LEASE);
  const held = new HeldClaim(
    'm1',
    {
      claims: mine,
      log: logger,
      leaseMs: LEASE,
      renewEveryMs: 60_000,
      fenceMarginMs: 3_000,
      answersAlone: () => answersAlone,
      monotonic: () => clock,
      onFenced: () => (fenced += 1),
    },
    0,
  );
  t.teardown(() => held.release());
  const expire = () => db.query('expire', `UPDATE claims SET deadline = now() - interval '1 second'`);
  return { db, held, theirs, lines, expire, advance: (ms: number) => (clock += ms), fenced: () => fenced };
}

t.test('the first reply marks the claim answered in one query; later replies are free; a sweeper never takes it', async (t) => {
  const s = await setup(t);
  const before = s.db.status().queries;
  await Promise.all([s.held.confirm(), s.held.confirm()]);
  t.equal(s.db.status().queries, before + 1, 'two replies at once: one query');
  t.ok(s.held.isAnswered);
  s.advance(60_000);
  await s.held.confirm();
  t.equal(s.db.status().queries, before + 1, 'a reply long after: still free, the claim is done');
  await s.expire();
  t.same(await s.theirs.takeOver(LEASE, 2, 10), [], 'an answered claim is never taken over, even past its deadline');
  const [row] = await s.db.query<{ done: boolean }>('row', 'SELECT done_at IS NOT NULL AS done FROM claims');
  t.equal(row?.done, true);
});

t.test('taken over meanwhile: every reply is refused, logged and counted once', async (t) => {
  const s = await setup(t);
  await s.expire();
  t.equal((await s.theirs.takeOver(LEASE, 2, 10)).length, 1);
  s.advance(8_000);
  await t.rejects(s.held.confirm(), ClaimFencedError);
  await t.rejects(s.held.confirm(), ClaimFencedError, 'the error reply after it too');
  t.equal(s.fenced(), 1);
  t.equal(s.lines.filter((l) => l.event === 'claim.fenced').length, 1);
  t.ok(s.held.isLost);
});

t.test('the database gone when a reply needs confirming: a fresh lease answers; an old one only on the preferred instance', async (t) => {
  for (const alone of [true, false]) {
    const s = await setup(t, alone);
    await pgServer.stop();
    s.advance(6_999);
    await t.resolves(s.held.confirm(), 'fresh: nobody can have taken it, the reply goes out');
    t.notOk(s.held.isAnswered, 'unmarked: the cluster settles it later');
    s.advance(2);
    if (alone) await t.resolves(s.held.confirm(), 'old, preferred: answers');
    else await t.rejects(s.held.confirm(), ClaimFencedError, 'old, another: withholds');
    await pgServer.start();
  }
});

t.test('the fenced api checks the claim before speaking, never before reading', async (t) => {
  const s = await setup(t);
  const calls: string[] = [];
  const api: WebexApi = {
    getMessage: async (id) => (
      calls.push(`get ${id}`),
      { id, roomId: 'r', roomType: 'direct', personId: 'p', personEmail: 'e', text: '', hasFiles: false, created: 0 }
    ),
    getCardAction: async (id) => (calls.push(`card ${id}`), { id, messageId: 'm', roomId: 'r', personId: 'p', inputs: {} }),
    getPerson: async (id) => (calls.push(`person ${id}`), { id, email: 'e', displayName: 'd', isBot: false }),
    send: async () => (calls.push('send'), { id: 'sent' }),
    deleteMessage: async () => void calls.push('delete'),
  };
  const fenced = fencedApi(api);
  await fenced.send({ roomId: 'r', markdown: 'outside any claim' });
  await s.expire();
  await s.theirs.takeOver(LEASE, 2, 10);
  s.advance(8_000);
  await underClaim(s.held, async () => {
    await fenced.getMessage('x');
    await fenced.getCardAction('y');
    await fenced.getPerson('z');
    await t.rejects(fenced.send({ roomId: 'r', markdown: 'late' }), ClaimFencedError);
    await t.rejects(fenced.deleteMessage('m'), ClaimFencedError);
  });
  t.same(calls, ['send', 'get x', 'card y', 'person z'], 'reads pass, the late send and delete never reach Webex');
});

t.test('stagger: one instance first per id, the others one step apart, spread over the ids', async (t) => {
  t.equal(staggerMs('id', 'a', [], 5), 0, 'alone: no wait');
  const firsts: Record<string, number> = { a: 0, b: 0, c: 0 };
  let wellOrdered = 0;
  for (let i = 0; i < 300; i += 1) {
    const waits = ['a', 'b', 'c'].map((n) =>
      staggerMs(
        `msg-${i}`,
        n,
        ['a', 'b', 'c'].filter((x) => x !== n),
        5,
      ),
    );
    if ([...waits].sort((x, y) => x - y).join() === '0,5,10') wellOrdered += 1;
    firsts[['a', 'b', 'c'][waits.indexOf(0)]!]! += 1;
  }
  t.equal(wellOrdered, 300, 'every id: one waits 0, one 5 ms, one 10 ms');
  t.ok(
    Object.values(firsts).every((n) => n > 70),
    `first in line: ${JSON.stringify(firsts)}`,
  );
});

t.test('throttled: the first line at once, then one per interval with the count left out', async (t) => {
  let now = 0;
  const th = new Throttled(10_000, () => now);
  const written: number[] = [];
  for (const at of [0, 1, 2, 10_000, 10_001, 25_000]) {
    now = at;
    th.maybe((n) => written.push(n));
  }
  t.same(written, [0, 2, 1]);
});
