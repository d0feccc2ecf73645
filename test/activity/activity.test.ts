import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runActivity } from '../../src/activity/cli.js';
import { openStorage, storageIn } from '../../src/storage/index.js';
import { tempStateDir } from '../kit/commands.js';
import { captureLog } from '../kit/log-capture.js';
import { cli, skipUnlessRoot } from '../kit/observe.js';
import { activityRecord, NOW } from '../kit/storage.js';

const DAY = 86_400_000;
const now = NOW;
const record = activityRecord;

t.test('toodles activity reads the state directory: a table, JSON and CSV', async (t) => {
  const dir = tempStateDir(t);
  const storage = await openStorage({ dir, log: captureLog().logger });
  storage.recordActivity(
    record({ at: now - 2 * DAY, personEmail: 'bob@example.com', command: 'testing', kind: 'card', outcome: 'invalid', ref: 'b0b00001' }),
  );
  storage.recordActivity(record({ at: now - 60_000, outcome: 'denied', ref: 'deny0001' }));
  await storage.close();
  t.equal(storageIn(dir), 'readable');
  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await runActivity(
      [...args, '--state-dir', dir],
      (s) => (out += s),
      (s) => (err += s),
      now,
      {},
    );
    return { code, out, err };
  };
  const table = await run();
  t.equal(table.code, 0);
  t.match(table.out, /^time\s+person\s+room\s+command\s+kind\s+outcome\s+durationMs\s+ref\n/);
  t.match(table.out, /bob@example\.com\s+R1\s+testing\s+card\s+invalid\s+12\s+b0b00001/);
  const json = JSON.parse((await run('--json', '--person', 'alice@example.com')).out) as Array<Record<string, unknown>>;
  t.same(
    json.map((r) => [r.ref, r.outcome, r.time]),
    [['deny0001', 'denied', new Date(now - 60_000).toISOString()]],
  );
  const csv = (await run('--csv', '--since', '3d', '--command', 'testing')).out.trim().split('\n');
  t.same(csv, [
    'time,person,room,command,kind,outcome,durationMs,ref',
    `${new Date(now - 2 * DAY).toISOString()},bob@example.com,R1,testing,card,invalid,12,b0b00001`,
  ]);
  t.match((await run('--since', '1h')).out, /deny0001/);
  t.notMatch((await run('--since', '1h')).out, /b0b00001/);
  t.equal((await run('--since', '2026-11-29')).out.split('\n').length, 3, 'a date works as --since (header, one record)');
  t.equal((await run('--since', 'yesterday')).code, 64);
  t.equal((await run('--json', '--csv')).code, 64);
  t.equal((await run('--bogus')).code, 64);
  const missing = await runActivity(
    ['--state-dir', join(dir, 'nowhere')],
    () => undefined,
    (s) => t.match(s, /no activity database/),
    now,
    {},
  );
  t.equal(missing, 1);
  const empty = await runActivity(
    ['--since', '1m', '--person', 'nobody@x'],
    (s) => t.equal(s, 'no activity in that period\n'),
    () => undefined,
    now,
    { TOODLES_STATE_DIR: dir },
  );
  t.equal(empty, 0, 'TOODLES_STATE_DIR names the directory when --state-dir does not');
  const badUrl = await runActivity(
    [],
    () => undefined,
    (s) => t.match(s, /^toodles activity: TOODLES_DATABASE_URL: must be a postgresql:\/\/ URL/),
    now,
    { TOODLES_DATABASE_URL: 'mysql://x@y/z' },
  );
  t.equal(badUrl, 1, 'a bad database URL is named, never quoted');
});

t.test(
  'a user who may not read the state directory is told permission denied, not "no activity database"',
  { skip: skipUnlessRoot },
  async (t) => {
    const dir = tempStateDir(t); // 0700 and root's, as the unit's StateDirectoryMode keeps it to the service user
    const storage = await openStorage({ dir, log: captureLog().logger });
    storage.recordActivity(record({ at: Date.now() }));
    await storage.close();
    const denied = await cli(['activity'], { TOODLES_STATE_DIR: dir }, { user: 'nobody' });
    t.equal(denied.code, 1);
    t.equal(denied.stderr, `toodles activity: permission denied: run as root or as the service user toodles (${dir})\n`);
    t.equal((await cli(['activity', '--state-dir', dir], {})).code, 0, 'root reads it');

    const open = tempStateDir(t);
    chmodSync(open, 0o755);
    const absent = await cli(['activity', '--state-dir', open], {}, { user: 'nobody' });
    t.match(absent.stderr, /no activity database in /, 'a directory anyone may read and that holds none: no database');
  },
);
