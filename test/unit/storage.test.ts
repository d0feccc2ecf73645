import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { runActivity } from '../../src/activity/cli.js';
import { openStorage, schedulePruning, storageExists, type ActivityRecord } from '../../src/storage/index.js';
import { captureLog } from '../support/log-capture.js';

const DAY = 86_400_000;
const now = Date.parse('2026-11-30T12:00:00Z');

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-storage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const record = (over: Partial<ActivityRecord>): ActivityRecord => ({
  at: now,
  personEmail: 'alice@example.com',
  roomId: 'R1',
  command: 'ping',
  kind: 'message',
  outcome: 'ok',
  durationMs: 12,
  ref: 'abcd0001',
  ...over,
});

t.test('activity: recorded, queried, pruned after the retention', async (t) => {
  const dir = tempDir(t);
  const { logger, lines } = captureLog();
  const storage = openStorage({ dir, log: logger });
  t.teardown(() => storage.close());
  storage.recordActivity(record({ at: now - 400 * DAY, ref: 'old00001' }));
  storage.recordActivity(record({ at: now - 2 * DAY, personEmail: 'bob@example.com', command: 'testing', kind: 'card', outcome: 'invalid', ref: 'b0b00001' }));
  storage.recordActivity(record({ at: now - 60_000, outcome: 'denied', ref: 'deny0001' }));
  t.ok(storageExists(dir));
  t.same(storage.activity({ since: now - 7 * DAY }).map((r) => r.ref), ['b0b00001', 'deny0001']);
  t.same(storage.activity({ personEmail: 'BOB@example.com' }).map((r) => r.ref), ['b0b00001'], 'person matched case-insensitively');
  t.same(storage.activity({ command: 'ping' }).map((r) => r.ref), ['old00001', 'deny0001']);
  const stop = schedulePruning(storage, 365, logger, () => now);
  stop();
  t.same(storage.activity({}).map((r) => r.ref), ['b0b00001', 'deny0001'], 'older than 365 days pruned at start');
  t.ok(lines.some((l) => l.event === 'storage.pruned' && l.removed === 1));

  await t.test('toodles activity prints it as a table, JSON and CSV', async (t) => {
    const run = (...args: string[]) => {
      let out = '';
      let err = '';
      const code = runActivity([...args, '--state-dir', dir], (s) => (out += s), (s) => (err += s), now);
      return { code, out, err };
    };
    const table = run();
    t.equal(table.code, 0);
    t.match(table.out, /^time\s+person\s+room\s+command\s+kind\s+outcome\s+durationMs\s+ref\n/);
    t.match(table.out, /bob@example\.com\s+R1\s+testing\s+card\s+invalid\s+12\s+b0b00001/);
    const json = JSON.parse(run('--json', '--person', 'alice@example.com').out) as Array<Record<string, unknown>>;
    t.same(json.map((r) => [r.ref, r.outcome, r.time]), [['deny0001', 'denied', new Date(now - 60_000).toISOString()]]);
    const csv = run('--csv', '--since', '3d', '--command', 'testing').out.trim().split('\n');
    t.same(csv, ['time,person,room,command,kind,outcome,durationMs,ref', `${new Date(now - 2 * DAY).toISOString()},bob@example.com,R1,testing,card,invalid,12,b0b00001`]);
    t.match(run('--since', '1h').out, /deny0001/);
    t.notMatch(run('--since', '1h').out, /b0b00001/);
    t.equal(run('--since', '2026-11-29').out.split('\n').length, 3, 'a date works as --since (header, one record)');
    t.equal(run('--since', 'yesterday').code, 64);
    t.equal(run('--json', '--csv').code, 64);
    t.equal(run('--bogus').code, 64);
    const missing = runActivity(['--state-dir', join(dir, 'nowhere')], () => undefined, (s) => t.match(s, /no activity database/), now);
    t.equal(missing, 1);
    const empty = runActivity(['--since', '1m', '--person', 'nobody@x', '--state-dir', dir], (s) => t.equal(s, 'no activity in that period\n'), () => undefined, now);
    t.equal(empty, 0);
  });
});

t.test('the testing register: numbers, open entries, early end, history', async (t) => {
  const storage = openStorage({ log: captureLog().logger });
  const base = { tester: 'Red team', targets: ['10.0.0.0/8'], what: 'test', createdByEmail: 'a@x', createdByName: 'A', createdAt: now };
  const one = storage.addTestingEntry({ ...base, startsAt: now - DAY, endsAt: now + DAY, ticket: 'SEC-1' });
  const two = storage.addTestingEntry({ ...base, startsAt: now + DAY, endsAt: now + 2 * DAY });
  const three = storage.addTestingEntry({ ...base, startsAt: now - 3 * DAY, endsAt: now - DAY });
  t.same([one.number, two.number, three.number], [1, 2, 3]);
  t.same(storage.testingEntriesOpenAt(now).map((e) => e.number), [1, 2], 'expired entries leave the list');
  t.same(storage.testingEntry(3)?.endsAt, now - DAY, 'and stay in the history');
  storage.endTestingEntry(1, now, 'admin@x');
  t.same(storage.testingEntriesOpenAt(now).map((e) => e.number), [2]);
  t.match(storage.testingEntry(1), { endedEarlyAt: now, endedBy: 'admin@x', ticket: 'SEC-1', targets: ['10.0.0.0/8'] });
  t.equal(storage.testingEntry(99), undefined);
  storage.close();
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
  t.throws(() => broken.testingEntriesOpenAt(now), /storage unavailable: not open/, 'no second attempt within the pause');
  clock += 6_000;
  rmSync(join(dir, 'toodles.db'), { recursive: true });
  t.same(broken.testingEntriesOpenAt(now), [], 'opens once the pause is over and the path is usable');
  broken.close();

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
  t.same(locked.activity({}).map((r) => r.ref), ['before01', 'after001']);
  locked.recordSubmission({ cardMessageId: 'C1', command: 'testing', recordedAs: '#1', byName: 'A', at: now, roomId: 'R1', roomType: 'group', threadId: 'T1' });
  t.match(locked.submission('C1'), { recordedAs: '#1', roomType: 'group', threadId: 'T1' });
  t.equal(locked.submission('C2'), undefined);
  locked.close();
});
