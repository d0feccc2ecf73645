// What only the SQLite storage does (what both storages do is in contract.test.ts).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { openStorage } from '../../src/storage/index.js';
import { tempStateDir } from '../kit/commands.js';
import { captureLog } from '../kit/log-capture.js';
import { activityRecord, NOW } from '../kit/storage.js';

const now = NOW;
const record = activityRecord;

t.test('a database that cannot be opened or is locked: recording is logged and dropped, never thrown', async (t) => {
  const dir = tempStateDir(t);
  mkdirSync(join(dir, 'toodles.db')); // a directory where the file should be
  const { logger, lines } = captureLog();
  let clock = now;
  const broken = await openStorage({ dir, log: logger, reopenAfterMs: 5_000, now: () => clock });
  broken.recordActivity(record({}));
  t.ok(lines.some((l) => l.event === 'storage.open_failed'));
  t.ok(lines.some((l) => l.event === 'storage.failed' && l.op === 'record activity'));
  await t.rejects(broken.testingEntriesOpenAt(now), /storage unavailable: not open/, 'no second attempt within the pause');
  clock += 6_000;
  rmSync(join(dir, 'toodles.db'), { recursive: true });
  t.same(await broken.testingEntriesOpenAt(now), [], 'opens once the pause is over and the path is usable');
  await broken.close();

  const locked = await openStorage({ dir, log: logger });
  locked.recordActivity(record({ ref: 'before01' }));
  const other = new Database(join(dir, 'toodles.db'));
  other.exec('BEGIN EXCLUSIVE');
  const started = Date.now();
  locked.recordActivity(record({ ref: 'during01' }));
  t.ok(Date.now() - started < 2_000, 'waits for the lock only briefly');
  t.ok(lines.some((l) => l.event === 'storage.failed' && l.ref === 'during01'));
  other.exec('ROLLBACK');
  other.close();
  locked.recordActivity(record({ ref: 'after001' }));
  t.same(
    (await locked.activity({})).map((r) => r.ref),
    ['before01', 'after001'],
  );
  await locked.close();
});

t.test('a database from before claims (recorded_as NOT NULL) is migrated, its submissions kept', async (t) => {
  const dir = tempStateDir(t);
  const old = new Database(join(dir, 'toodles.db'));
  old.exec(`CREATE TABLE activity (at INTEGER NOT NULL, person_email TEXT NOT NULL, room_id TEXT NOT NULL, command TEXT NOT NULL,
     kind TEXT NOT NULL, outcome TEXT NOT NULL, duration_ms INTEGER NOT NULL, ref TEXT NOT NULL);
   CREATE TABLE submissions (card_message_id TEXT PRIMARY KEY, command TEXT NOT NULL, recorded_as TEXT NOT NULL,
     by_name TEXT NOT NULL, at INTEGER NOT NULL, room_id TEXT NOT NULL, room_type TEXT NOT NULL, thread_id TEXT);
   CREATE TABLE testing (number INTEGER PRIMARY KEY AUTOINCREMENT, tester TEXT NOT NULL, targets TEXT NOT NULL,
     what TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL, ticket TEXT, created_by_email TEXT NOT NULL,
     created_by_name TEXT NOT NULL, created_at INTEGER NOT NULL, ended_early_at INTEGER, ended_by TEXT);
   INSERT INTO submissions VALUES ('C0', 'testing', '#7', 'A', 1, 'R1', 'group', NULL);
   PRAGMA user_version = 1;`);
  old.close();
  const storage = await openStorage({ dir, log: captureLog().logger });
  t.teardown(() => storage.close());
  t.match(await storage.submission('C0'), { recordedAs: '#7', byName: 'A' });
  t.equal(
    await storage.claimSubmission(
      { cardMessageId: 'C1', command: 'testing', byName: 'B', at: now, roomId: 'R1', roomType: 'group' },
      now - 1,
    ),
    true,
  );
  t.same(
    await storage.submission('C1'),
    { cardMessageId: 'C1', command: 'testing', byName: 'B', at: now, roomId: 'R1', roomType: 'group' },
    'a claim not yet recorded',
  );
});
