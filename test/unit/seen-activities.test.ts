import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeenActivities } from '../../src/connection/seen-activities.js';

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
