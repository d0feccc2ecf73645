import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeenActivities, type PersistenceReport } from '../../src/connection/seen-activities.js';

t.test('an id is first seen once, then remembered until its ttl passes', async (t) => {
  let now = 1_000;
  const seen = new SeenActivities({ ttlMs: 30 * 60_000, maxEntries: 10, now: () => now });
  t.ok(seen.firstSighting('a'));
  t.notOk(seen.firstSighting('a'));
  now += 29 * 60_000;
  t.notOk(seen.firstSighting('a'), 'still remembered at 29 minutes');
  now += 2 * 60_000;
  t.ok(seen.firstSighting('a'), 'forgotten after the ttl');
});

t.test('memory is bounded: the oldest ids go first', async (t) => {
  const seen = new SeenActivities({ ttlMs: 60_000, maxEntries: 3 });
  for (const id of ['a', 'b', 'c', 'd']) seen.firstSighting(id);
  t.equal(seen.size, 3);
  t.ok(seen.firstSighting('a'), 'a was evicted');
  t.notOk(seen.firstSighting('d'));
});

t.test('ids survive a restart through the state dir, and the file stays compact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-seen-'));
  let now = 5_000;
  const first = new SeenActivities({ ttlMs: 60_000, maxEntries: 100, stateDir: dir, now: () => now });
  for (let i = 0; i < 2_500; i++) first.firstSighting(`old-${i}`);
  now += 61_000;
  first.firstSighting('fresh');
  const lines = readFileSync(join(dir, 'seen-activities.log'), 'utf8').trim().split('\n').length;
  t.ok(lines <= 2_501, `file compacted as it grew (${lines} lines)`);

  const restarted = new SeenActivities({ ttlMs: 60_000, maxEntries: 100, stateDir: dir, now: () => now });
  t.notOk(restarted.firstSighting('fresh'), 'a re-delivery after restart is recognised');
  t.ok(restarted.firstSighting('old-1'), 'expired ids are not reloaded');
  t.equal(readFileSync(join(dir, 'seen-activities.log'), 'utf8').trim().split('\n').length, 2, 'reload rewrote only live ids');
});

t.test(
  'a record that cannot be written: ids still de-duplicated in memory, failures reported at most once a period, recovery reported',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'toodles-seen-'));
    const file = join(dir, 'seen-activities.log');
    let now = 0;
    const reports: PersistenceReport[] = [];
    const seen = new SeenActivities({
      ttlMs: 3_600_000,
      maxEntries: 100,
      stateDir: dir,
      now: () => now,
      reportEveryMs: 60_000,
      onPersistence: (r) => reports.push(r),
    });
    t.ok(seen.firstSighting('a'));
    t.same(reports, [], 'nothing to report while writes work');

    rmSync(file);
    mkdirSync(file); // any write to the record now fails (EISDIR), even for root
    t.ok(seen.firstSighting('b'), 'a new id is still a first sighting');
    t.notOk(seen.firstSighting('b'), 'and remembered in memory');
    t.ok(seen.degraded);
    t.equal(reports.length, 1, 'the first failure is reported at once');
    t.match(reports[0], { ok: false, failures: 1, err: /EISDIR|EPERM/ });
    for (let i = 0; i < 5; i++) {
      now += 10_000;
      seen.firstSighting(`c${i}`);
    }
    t.equal(reports.length, 1, 'five more failures within the minute: no more reports');
    now += 10_001;
    seen.firstSighting('d');
    t.match(reports[1], { ok: false, failures: 6 }, 'a minute on: one report counting the failures since');
    t.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')).length, 0, 'no half-written copy left behind');

    rmdirSync(file);
    seen.firstSighting('e');
    t.same(reports[2], { ok: true, failures: 0 }, 'recovery is reported');
    t.notOk(seen.degraded);
    const ids = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[0]);
    t.same(ids, ['a', 'b', 'c0', 'c1', 'c2', 'c3', 'c4', 'd', 'e'], 'the file is whole again, with the ids missed while failing');
  },
);

t.test('an unusable state dir at construction does not throw either', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'toodles-seen-'));
  writeFileSync(join(parent, 'file'), '');
  const reports: PersistenceReport[] = [];
  const seen = new SeenActivities({
    ttlMs: 60_000,
    maxEntries: 10,
    stateDir: join(parent, 'file', 'state'),
    onPersistence: (r) => reports.push(r),
  });
  t.ok(seen.firstSighting('a'));
  t.notOk(seen.firstSighting('a'));
  t.ok(reports.length >= 1 && reports.every((r) => !r.ok), `failures reported (${reports.length}; without a period, each one)`);
  t.match(reports[0]?.err, /ENOTDIR/);
});
