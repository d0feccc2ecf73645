import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gaps, MAX_ROUND_FAILURES, OVERLAP_MS, rememberForMs } from '../../src/catchup/gaps.js';
import { HeardMark, MARK_FILE } from '../../src/catchup/mark.js';
import { tempStateDir } from '../kit/commands.js';
import { captureLog } from '../kit/log-capture.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-30T10:00:00Z');

/** Gaps on a clock the test moves, with the previous process's mark at `previousMark` (none: a first start). */
function setup(t: { teardown(fn: () => void): void }, previousMark?: number, maxAgeMs = HOUR) {
  const dir = tempStateDir(t);
  if (previousMark !== undefined) writeFileSync(join(dir, MARK_FILE), JSON.stringify({ heardThroughMs: previousMark }));
  const clock = { now: T0 };
  const mark = new HeardMark({ stateDir: dir, log: captureLog().logger, now: () => clock.now });
  return { clock, mark, gaps: new Gaps({ mark, maxAgeMs, now: () => clock.now }) };
}

t.test('a start with a mark owes the gap since it, once online; the mark holds until the round is done', async (t) => {
  const { clock, mark, gaps } = setup(t, T0 - 30_000);
  gaps.heard(T0);
  t.equal(mark.current(), T0 - 30_000, 'held before the first online');
  gaps.online();
  const gap = gaps.take();
  t.match(gap, { from: T0 - 30_000, to: T0, causes: ['restart'] });
  clock.now += 2_000;
  gaps.heard(clock.now);
  t.equal(mark.current(), T0 - 30_000, 'held during the round');
  gaps.settled(gap!, true);
  gaps.heard(clock.now);
  t.equal(mark.current(), clock.now, 'follows the socket again');
  t.equal(gaps.take(), undefined, 'nothing more owed');
});

t.test('a first start (no mark) owes nothing, ever, for history', async (t) => {
  const { mark, gaps } = setup(t);
  gaps.registeredNewDevice(); // a first start registers a device too
  gaps.online();
  t.equal(gaps.take(), undefined);
  gaps.heard(T0);
  t.equal(mark.current(), T0, 'the mark starts now');
});

t.test('a new device before the first sign of life after a first start still owes the time since it came online', async (t) => {
  const { clock, mark, gaps } = setup(t);
  gaps.registeredNewDevice();
  gaps.online();
  t.equal(mark.current(), T0, 'online is listening: the mark starts there, before any ping');
  clock.now += 500;
  gaps.delivered();
  clock.now += 300; // the device goes deaf; a heal registers a new one at once
  gaps.registeredNewDevice();
  gaps.reconnected({ graceful: true, deafMs: 0 });
  t.match(gaps.take(), { from: T0, to: clock.now, causes: ['new device'] });
});

t.test('reconnects: a graceful one owes nothing; any other owes its deaf time, however short', async (t) => {
  const { clock, gaps } = setup(t);
  gaps.online();
  for (let i = 0; i < 3; i++) gaps.reconnected({ graceful: true, deafMs: 0 });
  t.equal(gaps.take(), undefined);
  clock.now += 60_000;
  gaps.reconnected({ graceful: true, deafMs: 1_500 });
  const died = gaps.take()!;
  t.match(
    died,
    { from: clock.now - 1_500, to: clock.now, causes: ['reconnect'] },
    'a graceful one whose current socket died first owes its deaf time',
  );
  gaps.settled(died, true);
  clock.now += 60_000;
  gaps.reconnected({ graceful: false, deafMs: 4_000 });
  const gap = gaps.take()!;
  t.match(gap, { from: clock.now - 4_000, to: clock.now, causes: ['reconnect'] });
  gaps.settled(gap, true);
  gaps.reconnected({ graceful: false, deafMs: 0 });
  t.match(
    gaps.take(),
    { from: clock.now, to: clock.now },
    'a kill noticed and mended in the same millisecond: still listed from the overlap before',
  );
});

t.test('gaps found during a round widen the next one', async (t) => {
  const { clock, gaps } = setup(t, T0 - 30_000);
  gaps.online();
  const first = gaps.take()!;
  clock.now += 10_000;
  gaps.reconnected({ graceful: false, deafMs: 3_000 });
  clock.now += 10_000;
  gaps.reconnected({ graceful: false, deafMs: 2_000 });
  t.equal(gaps.take(), undefined, 'one round at a time');
  gaps.settled(first, true);
  t.match(gaps.take(), { from: T0 + 7_000, to: T0 + 20_000, causes: ['reconnect'] });
});

t.test('a new device owes the time since the last delivery (or the mark, if older), within the max age', async (t) => {
  const { clock, mark, gaps } = setup(t);
  gaps.online();
  mark.advance(T0);
  clock.now += 60_000;
  gaps.delivered();
  const deliveredAt = clock.now;
  clock.now += 5 * 60_000;
  mark.advance(clock.now - 1_000); // the socket kept answering pings: deaf, yet heard
  gaps.registeredNewDevice();
  gaps.heard(clock.now);
  t.equal(mark.current(), clock.now - 1_000, 'the mark holds once a new device is registered');
  gaps.reconnected({ graceful: true, deafMs: 0 }); // the rebuild moves onto the new device gracefully
  const gap = gaps.take()!;
  t.match(gap, { from: deliveredAt, to: clock.now, causes: ['new device'] });
  gaps.settled(gap, true);

  clock.now += 3 * HOUR;
  gaps.registeredNewDevice();
  gaps.reconnected({ graceful: true, deafMs: 0 });
  t.match(gaps.take(), { from: clock.now - HOUR }, 'bounded by the max age');
});

t.test('a failed round is owed again, until it has failed too often', async (t) => {
  const { gaps } = setup(t, T0 - 30_000);
  gaps.online();
  for (let i = 1; i < MAX_ROUND_FAILURES; i++) {
    t.ok(gaps.settled(gaps.take()!, false), `failure ${i}: owed again`);
    t.ok(gaps.owes);
  }
  t.notOk(gaps.settled(gaps.take()!, false), 'given up');
  t.notOk(gaps.owes);
});

t.test('the gap a message fell in, for its late answer (allowing for the overlap before it)', async (t) => {
  const { clock, gaps } = setup(t);
  gaps.online();
  clock.now += 60_000;
  gaps.reconnected({ graceful: false, deafMs: 20_000 });
  t.same(gaps.offlineAt(clock.now - 5_000), { from: clock.now - 20_000, to: clock.now });
  t.ok(gaps.offlineAt(clock.now - 20_000 - OVERLAP_MS), 'within the overlap');
  t.equal(gaps.offlineAt(clock.now - 20_000 - OVERLAP_MS - 1), undefined, 'before it');
  t.equal(gaps.offlineAt(clock.now + 1), undefined, 'after it');
  clock.now += 1_000;
  gaps.reconnected({ graceful: false, deafMs: 30_000 });
  t.same(gaps.offlineAt(clock.now - 25_000), { from: clock.now - 30_000, to: clock.now }, 'overlapping gaps read as one');
});

t.test('max age 0: catch-up off, nothing owed, the mark still follows the socket', async (t) => {
  const { clock, mark, gaps } = setup(t, T0 - 30_000, 0);
  gaps.online();
  gaps.reconnected({ graceful: false, deafMs: 60_000 });
  t.equal(gaps.take(), undefined);
  gaps.heard(clock.now);
  t.equal(mark.current(), clock.now);
});

t.test('ids are remembered for the max age and the overlap, at least the floor', async (t) => {
  t.equal(rememberForMs(0, 30 * 60_000), 30 * 60_000);
  t.ok(rememberForMs(HOUR, 30 * 60_000) >= HOUR + OVERLAP_MS);
});
