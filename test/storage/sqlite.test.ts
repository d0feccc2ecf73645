import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { runActivity } from '../../src/activity/cli.js';
import { openStorage, storageExists, type ActivityRecord } from '../../src/storage/index.js';
import { activityRecord, NOW } from '../kit/storage.js';
import { captureLog } from '../kit/log-capture.js';

const DAY = 86_400_000;
const now = NOW;

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-storage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const record = activityRecord;

t.test('toodles activity reads the state directory: a table, JSON and CSV', async (t) => {
  const dir = tempDir(t);
  const storage = openStorage({ dir, log: captureLog().logger });
  storage.recordActivity(record({ at: now - 2 * DAY, personEmail: 'bob@example.com', command: 'testing', kind: 'card', outcome: 'invalid', ref: 'b0b00001' }));
  storage.recordActivity(record({ at: now - 60_000, outcome: 'denied', ref: 'deny0001' }));
  await storage.close();
  t.ok(storageExists(dir));
  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await runActivity([...args, '--state-dir', dir], (s) => (out += s), (s) => (err += s), now, {});
    return { code, out, err };
  };
  const table = await run();
  t.equal(table.code, 0);
  t.match(table.out, /^time\s+person\s+room\s+command\s+kind\s+outcome\s+durationMs\s+ref\n/);
  t.match(table.out, /bob@example\.com\s+R1\s+testing\s+card\s+invalid\s+12\s+b0b00001/);
  const json = JSON.parse((await run('--json', '--person', 'alice@example.com')).out) as Array<Record<string, unknown>>;
  t.same(json.map((r) => [r.ref, r.outcome, r.time]), [['deny0001', 'denied', new Date(now - 60_000).toISOString()]]);
  const csv = (await run('--csv', '--since', '3d', '--command', 'testing')).out.trim().split('\n');
  t.same(csv, ['time,person,room,command,kind,outcome,durationMs,ref', `${new Date(now - 2 * DAY).toISOString()},bob@example.com,R1,testing,card,invalid,12,b0b00001`]);
  t.match((await run('--since', '1h')).out, /deny0001/);
  t.notMatch((await run('--since', '1h')).out, /b0b00001/);
  t.equal((await run('--since', '2026-11-29')).out.split('\n').length, 3, 'a date works as --since (header, one record)');
  t.equal((await run('--since', 'yesterday')).code, 64);
  t.equal((await run('--json', '--csv')).code, 64);
  t.equal((await run('--bogus')).code, 64);
  const missing = await runActivity(['--state-dir', join(dir, 'nowhere')], () => undefined, (s) => t.match(s, /no activity database/), now, {});
  t.equal(missing, 1);
  const empty = await runActivity(['--since', '1m', '--person', 'nobody@x'], (s) => t.equal(s, 'no activity in that period\n'), () => undefined, now, { TOODLES_STATE_DIR: dir });
  t.equal(empty, 0, 'TOODLES_STATE_DIR names the directory when --state-dir does not');
  const badUrl = await runActivity([], () => undefined, (s) => t.match(s, /^toodles activity: TOODLES_DATABASE_URL: must be a postgresql:\/\/ URL/), now, { TOODLES_DATABASE_URL: 'mysql://x@y/z' });
  t.equal(badUrl, 1, 'a bad database URL is named, never quoted');
});

t.test('a database that cannot be opened or is locked: recording is logged and dropped, never thrown', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'toodles.db')); // a directory where the file should be
  const { logger, lines } = captureLog();
  let clock = now;
  const broken = openStorage({ dir, log: logger, reopenAfterMs: 5_000, now: () => clock });
  broken.recordActivity(record({}));
  t.ok(lines.some((l) => l.event === 'storage.open_failed'));
  t.ok(lines.some((l) => l.event === 'storage.failed' && l.op === 'record activity'));
  await t.rejects(broken.testingEntriesOpenAt(now), /storage unavailable: not open/, 'no second attempt within the pause');
  clock += 6_000;
  rmSync(join(dir, 'toodles.db'), { recursive: true });
  t.same(await broken.testingEntriesOpenAt(now), [], 'opens once the pause is over and the path is usable');
  await broken.close();

  const locked = openStorage({ dir, log: logger });
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
  t.same((await locked.activity({})).map((r) => r.ref), ['before01', 'after001']);
  await locked.close();
});

t.test('a database from before claims (recorded_as NOT NULL) is migrated, its submissions kept', async (t) => {
  const dir = tempDir(t);
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
  const storage = openStorage({ dir, log: captureLog().logger });
  t.teardown(() => storage.close());
  t.match(await storage.submission('C0'), { recordedAs: '#7', byName: 'A' });
  t.equal(await storage.claimSubmission({ cardMessageId: 'C1', command: 'testing', byName: 'B', at: now, roomId: 'R1', roomType: 'group' }, now - 1), true);
  t.same(await storage.submission('C1'), { cardMessageId: 'C1', command: 'testing', byName: 'B', at: now, roomId: 'R1', roomType: 'group' }, 'a claim not yet recorded');
});
