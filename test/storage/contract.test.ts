// One contract, both implementations: SQLite in a temp directory and a real PostgreSQL (a fresh
// database per test). "Two instances" are two storages on one database: two SQLite connections to one
// file, two PostgresStorage over two Database pools.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Database } from '../../src/database/database.js';
import { sentence } from '../../src/journal/messages.js';
import { openStorage, schedulePruning, StorageUnavailableError, type ActivityRecord, type Storage } from '../../src/storage/index.js';
import { activityRecord, NOW } from '../kit/storage.js';
import { captureLog, type CapturedLog } from '../kit/log-capture.js';
import { startPostgres } from '../kit/postgres.js';
import { sleep } from '../kit/wait.js';

const pgServer = await startPostgres();
t.teardown(() => pgServer.close());

const DAY = 86_400_000;
const now = NOW;
type Test = { teardown(fn: () => unknown): void };

interface Opened {
  /** One storage per instance, all on the same database. */
  instances: Storage[];
  log: CapturedLog;
  databases: Database[];
}

const kinds: Array<{ name: string; open(t: Test, count?: number): Promise<Opened> }> = [
  {
    name: 'sqlite',
    async open(t, count = 1) {
      const dir = mkdtempSync(join(tmpdir(), 'toodles-contract-'));
      const log = captureLog();
      const instances = await Promise.all(Array.from({ length: count }, () => openStorage({ dir, log: log.logger })));
      t.teardown(async () => {
        await Promise.all(instances.map((s) => s.close()));
        rmSync(dir, { recursive: true, force: true });
      });
      return { instances, log, databases: [] };
    },
  },
  {
    name: 'postgres',
    async open(t, count = 1) {
      const name = await pgServer.createDatabase();
      const log = captureLog();
      const databases = Array.from(
        { length: count },
        (_v, i) =>
          new Database({ url: pgServer.url(name), log: log.logger, applicationName: `contract-${i}`, probeMinMs: 50, probeMaxMs: 200 }),
      );
      const instances = await Promise.all(databases.map((database) => openStorage({ database, log: log.logger })));
      t.teardown(async () => {
        await Promise.all(instances.map((s) => s.close()));
        await Promise.all(databases.map((d) => d.close()));
      });
      return { instances, log, databases };
    },
  },
];

const record = activityRecord;

/** recordActivity does not wait: its records show up shortly after. */
async function recorded(storage: Storage, count: number): Promise<ActivityRecord[]> {
  const end = Date.now() + 5_000;
  for (;;) {
    const rows = await storage.activity({});
    if (rows.length >= count || Date.now() > end) return rows;
    await sleep(10);
  }
}

const claim = (cardMessageId: string, byName: string, at = now) =>
  ({ cardMessageId, command: 'testing', byName, at, roomId: 'R1', roomType: 'group', threadId: 'T1' }) as const;

const entry = {
  tester: 'Red team',
  targets: ['10.0.0.0/8', 'app.example.com'],
  what: 'test',
  createdByEmail: 'a@x',
  createdByName: 'A',
  createdAt: now,
};

for (const kind of kinds) {
  t.test(kind.name, async (t) => {
    t.test('activity: recorded without waiting, queried, pruned after the retention', async (t) => {
      const {
        instances: [storage],
        log,
      } = await kind.open(t);
      const returned = storage!.recordActivity(record({ at: now - 400 * DAY, ref: 'old00001' }));
      t.equal(returned, undefined, 'nothing to wait for');
      // Frozen: what comes back is compared with it, so nothing may have changed it on the way in.
      const bobs = Object.freeze(
        record({
          at: now - 2 * DAY,
          personEmail: 'bob@example.com',
          command: 'testing',
          kind: 'card',
          outcome: 'invalid',
          ref: 'b0b00001',
        }),
      );
      storage!.recordActivity(bobs);
      storage!.recordActivity(record({ at: now - 60_000, outcome: 'denied', ref: 'deny0001' }));
      t.same(
        (await recorded(storage!, 3)).map((r) => r.ref),
        ['old00001', 'b0b00001', 'deny0001'],
        'in time order',
      );
      t.same(
        (await storage!.activity({ since: now - 7 * DAY })).map((r) => r.ref),
        ['b0b00001', 'deny0001'],
      );
      t.same(
        (await storage!.activity({ personEmail: 'BOB@example.com' })).map((r) => r.ref),
        ['b0b00001'],
        'person matched case-insensitively',
      );
      t.same(
        (await storage!.activity({ command: 'ping' })).map((r) => r.ref),
        ['old00001', 'deny0001'],
      );
      t.same((await storage!.activity({ command: 'testing' }))[0], bobs, 'every field back as written');
      const stop = schedulePruning(storage!, 365, log.logger, { now: () => now });
      const pruned = await log.waitFor('storage.pruned');
      stop();
      t.equal(pruned.removed, 1);
      t.same(
        (await storage!.activity({})).map((r) => r.ref),
        ['b0b00001', 'deny0001'],
        'older than 365 days pruned at start',
      );
    });

    t.test('the testing register: numbers, open entries, early end, history', async (t) => {
      const {
        instances: [storage],
      } = await kind.open(t);
      const one = await storage!.addTestingEntry({ ...entry, startsAt: now - DAY, endsAt: now + DAY, ticket: 'SEC-1' });
      const two = await storage!.addTestingEntry({ ...entry, startsAt: now + DAY, endsAt: now + 2 * DAY });
      const three = await storage!.addTestingEntry({ ...entry, startsAt: now - 3 * DAY, endsAt: now - DAY });
      t.same([one.number, two.number, three.number], [1, 2, 3]);
      t.same(
        (await storage!.testingEntriesOpenAt(now)).map((e) => e.number),
        [1, 2],
        'expired entries leave the list',
      );
      t.same(await storage!.testingEntry(3), three, 'and stay in the history, as written');
      await storage!.endTestingEntry(1, now, 'admin@x');
      await storage!.endTestingEntry(1, now + 5, 'late@x');
      t.same(
        (await storage!.testingEntriesOpenAt(now)).map((e) => e.number),
        [2],
      );
      t.same(await storage!.testingEntry(1), { ...one, endedEarlyAt: now, endedBy: 'admin@x' }, 'the first end stands');
      t.equal(await storage!.testingEntry(99), undefined);
    });

    t.test('submissions: claimed once, recorded, released, taken over when left running', async (t) => {
      const {
        instances: [storage],
      } = await kind.open(t);
      t.equal(await storage!.submission('C1'), undefined);
      t.equal(await storage!.claimSubmission(claim('C1', 'A'), now - 60_000), true, 'the first claim wins');
      t.same(await storage!.submission('C1'), claim('C1', 'A'), 'running: no recordedAs yet');
      t.equal(await storage!.claimSubmission(claim('C1', 'B'), now - 60_000), false, 'a second claim loses');
      await storage!.recordSubmission({ ...claim('C1', 'A'), recordedAs: '#1' });
      t.same(await storage!.submission('C1'), { ...claim('C1', 'A'), recordedAs: '#1' });
      t.equal(await storage!.claimSubmission(claim('C1', 'B', now + DAY), now + DAY), false, 'a recorded one is never taken over');
      await storage!.releaseSubmission('C1');
      t.match(await storage!.submission('C1'), { recordedAs: '#1' }, 'nor released');

      t.equal(await storage!.claimSubmission(claim('C2', 'A'), now - 60_000), true);
      await storage!.releaseSubmission('C2');
      t.equal(await storage!.submission('C2'), undefined, 'a submit that did not go through leaves the card free');
      t.equal(await storage!.claimSubmission(claim('C2', 'B'), now - 60_000), true);
      t.equal(
        await storage!.claimSubmission(claim('C2', 'C', now + 120_000), now + 60_000),
        true,
        'one left running past the stale mark is taken over',
      );
      t.match(await storage!.submission('C2'), { byName: 'C' });

      await storage!.recordSubmission({ ...claim('C3', 'A'), recordedAs: '#3' });
      t.same(
        await storage!.submission('C3'),
        { ...claim('C3', 'A'), recordedAs: '#3' },
        'recorded without a claim (the database was away at claim time)',
      );
      await storage!.recordSubmission({ ...claim('C3', 'B'), recordedAs: '#4' });
      t.match(await storage!.submission('C3'), { recordedAs: '#3' }, 'the first record stands');
    });

    t.test("command modules' values: per namespace, replaced, deleted, listed by prefix in key order", async (t) => {
      const { instances } = await kind.open(t, 2);
      const [a, b] = instances as [Storage, Storage];
      t.equal(await a.kvGet('links', 'wiki'), undefined);
      await a.kvSet('links', 'wiki', '{"url":"https://wiki"}', now);
      await a.kvSet('links', 'wiki', '{"url":"https://wiki2"}', now + 1);
      await a.kvSet('who', 'wiki', '"another command\'s"', now);
      for (const key of ['b', 'a/2', 'a/10', 'a/1', 'Z', 'é', 'a%', 'a_']) await a.kvSet('links', key, `"${key}"`, now);
      t.equal(await b.kvGet('links', 'wiki'), '{"url":"https://wiki2"}', 'replaced, and seen by another instance');
      t.equal(await b.kvGet('who', 'wiki'), '"another command\'s"', 'namespaces are apart');
      t.same(
        (await b.kvList('links', 'a')).map((e) => e.key),
        ['a%', 'a/1', 'a/10', 'a/2', 'a_'],
        'by prefix (% and _ are plain characters), in code point order',
      );
      t.same(
        (await b.kvList('links', '')).map((e) => e.key),
        ['Z', 'a%', 'a/1', 'a/10', 'a/2', 'a_', 'b', 'wiki', 'é'],
      );
      t.same(await b.kvList('links', 'a/1'), [
        { key: 'a/1', value: '"a/1"' },
        { key: 'a/10', value: '"a/10"' },
      ]);
      t.equal(await b.kvDelete('links', 'wiki'), true);
      t.equal(await a.kvDelete('links', 'wiki'), false, 'already gone');
      t.equal(await a.kvGet('links', 'wiki'), undefined);
      t.equal(await a.kvGet('who', 'wiki'), '"another command\'s"');
      t.same(await a.kvList('nobody', ''), []);
    });

    t.test('two instances at once: one card claimed by exactly one, register numbers never shared', async (t) => {
      const { instances } = await kind.open(t, 2);
      const [a, b] = instances as [Storage, Storage];
      await a.testingEntriesOpenAt(now); // both schemas in place before the race: the race is the claim's
      for (let i = 0; i < 20; i++) {
        const wins = await Promise.all([
          a.claimSubmission(claim(`K${i}`, 'A'), now - 60_000),
          b.claimSubmission(claim(`K${i}`, 'B'), now - 60_000),
        ]);
        t.equal(wins.filter(Boolean).length, 1, `card ${i}: exactly one winner`);
      }
      const added = await Promise.all(
        Array.from({ length: 10 }, (_v, i) => (i % 2 ? a : b).addTestingEntry({ ...entry, startsAt: now, endsAt: now + DAY })),
      );
      t.same(
        added.map((e) => e.number).sort((x, y) => x - y),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
      t.equal((await b.testingEntriesOpenAt(now)).length, 10, "each sees the other's entries");
    });
  });
}

t.test('postgres: two instances starting at once make one schema', async (t) => {
  const { instances, log } = await kinds[1]!.open(t, 3);
  await Promise.all(instances.map((s) => s.activity({})));
  const applied = log.lines.filter((l) => l.event === 'storage.open').map((l) => l.applied as string[]);
  t.same(applied.flat(), ['storage-1', 'storage-2'], 'applied by exactly one');
  t.equal(applied.length, 3, 'every instance opened');
  const sentences = log.lines
    .filter((l) => l.event === 'storage.open')
    .map(sentence)
    .sort();
  t.match(
    sentences,
    [
      /^Records in PostgreSQL 127\.0\.0\.1:\d+\/t\w+$/,
      /^Records in PostgreSQL 127\.0\.0\.1:\d+\/t\w+$/,
      /^Records in PostgreSQL .*; schema steps applied: storage-1, storage-2$/,
    ],
    'the journal says where the records are',
  );
});

t.test('postgres down: every call fails at once, recording is dropped and logged, all back with the server', async (t) => {
  const {
    instances: [storage],
    databases: [db],
    log,
  } = await kinds[1]!.open(t);
  storage!.recordActivity(record({ ref: 'before01' }));
  await recorded(storage!, 1);
  await pgServer.stop();
  t.teardown(() => pgServer.start());
  await t.rejects(storage!.testingEntriesOpenAt(now), StorageUnavailableError, 'the first call finds it down');
  const started = Date.now();
  for (const call of <Array<Promise<unknown>>>[
    storage!.activity({}),
    storage!.submission('C1'),
    storage!.claimSubmission(claim('C1', 'A'), 0),
    storage!.addTestingEntry({ ...entry, startsAt: now, endsAt: now + DAY }),
  ]) {
    await t.rejects(call, StorageUnavailableError);
  }
  t.ok(Date.now() - started < 200, `then each fails at once (${Date.now() - started} ms for four)`);
  storage!.recordActivity(record({ ref: 'during01' }));
  const failed = await log.waitFor('storage.failed', (l) => l.ref === 'during01');
  t.match(failed, { op: 'record activity', err: /unavailable/ });
  t.notOk(
    log.lines.some((l) => l.event === 'storage.open_failed'),
    'a server that is down is not a schema problem',
  );
  await storage!.close(); // nothing left on its way
  await pgServer.start();
  const end = Date.now() + 10_000;
  while (!db!.isUp && Date.now() < end) await sleep(20);
  storage!.recordActivity(record({ ref: 'after001' }));
  t.same(
    (await recorded(storage!, 2)).map((r) => r.ref),
    ['before01', 'after001'],
    'recording resumes; the record from the outage is lost, not the bot',
  );
});

t.test('postgres: a schema that cannot be made is logged as storage.open_failed and tried again', async (t) => {
  const name = await pgServer.createDatabase();
  const log = captureLog();
  const database = new Database({ url: pgServer.url(name), log: log.logger, applicationName: 'contract' });
  t.teardown(() => database.close());
  await database.query('squat', 'CREATE TABLE testing (x int)'); // a table of that name, not ours
  const storage = await openStorage({ database, log: log.logger });
  await t.rejects(storage.testingEntriesOpenAt(now), /already exists/);
  const failed = log.lines.find((l) => l.event === 'storage.open_failed');
  t.equal(failed?.database, database.target);
  t.match(sentence(failed!), /^Cannot open the database in 127\.0\.0\.1:\d+\/t\w+: relation "testing" already exists; commands still run/);
  await database.query('unsquat', 'DROP TABLE testing');
  t.same(await storage.testingEntriesOpenAt(now), [], 'the next call makes the schema');
});
