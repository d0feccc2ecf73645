/**
 * The watchdog cadence as the daemon sets it up (the notifier reading WATCHDOG_USEC, the supervisor's
 * tick, the pinger it calls every tick), driven by an injected clock: the largest gap between two
 * WATCHDOG=1 must stay at systemd's ping interval (half WatchdogSec), however the ticks land.
 */
import t from 'tap';
import { DEFAULT_TIMINGS } from '../../src/connection/supervisor.js';
import { watchdogPinger, watchdogTickMs } from '../../src/daemon/reporters.js';
import { DaemonStats } from '../../src/stats/stats.js';
import { systemdNotifier } from '../../src/systemd/notifier.js';

/** How late a tick may land in these runs; a measured tick can also read 1 ms early (clock rounding). */
const MAX_LATE_MS = 50;

/** Ticks at the supervisor's interval, each off by `offset(i)` ms; returns the gaps between pings. */
async function pingGaps(
  watchdogSec: number,
  offset: (i: number) => number,
  ticks = 2_000,
): Promise<{ gaps: number[]; intervalMs: number; tickMs: number }> {
  let clock = 1_700_000_000_000;
  const pings: number[] = [];
  const notifier = {
    ...(await systemdNotifier({ WATCHDOG_USEC: String(watchdogSec * 1_000_000) })),
    watchdog: () => void pings.push(clock),
  };
  const tickMs = watchdogTickMs(DEFAULT_TIMINGS.tickMs, notifier.watchdogIntervalMs);
  const onProgress = watchdogPinger(notifier, new DaemonStats(undefined, () => clock), tickMs, () => clock);
  let due = clock;
  for (let i = 0; i < ticks; i++) {
    due += tickMs;
    clock = due + offset(i);
    onProgress();
  }
  return { gaps: pings.slice(1).map((at, i) => at - pings[i]!), intervalMs: notifier.watchdogIntervalMs, tickMs };
}

/** A repeatable spread of offsets in [-1, MAX_LATE_MS]. */
function jitter(seed: number): (i: number) => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return (x % (MAX_LATE_MS + 2)) - 1;
  };
}

for (const watchdogSec of [2, 3, 8]) {
  t.test(`WatchdogSec=${watchdogSec}: the largest gap between pings stays at half of it`, async (t) => {
    const limitMs = watchdogSec * 1_000;
    const kinds: Array<[string, (i: number) => number]> = [
      ['on time', () => 0],
      // The audit's case: a tick read at 999 ms after a ping used to skip it, and the gap became 2,001 ms.
      ['every other tick 1 ms early', (i) => (i % 2 ? -1 : 0)],
      ['every tick 1 ms early', () => -1],
      ['late by up to 50 ms', jitter(watchdogSec)],
    ];
    for (const [kind, offset] of kinds) {
      const { gaps, intervalMs, tickMs } = await pingGaps(watchdogSec, offset);
      const max = Math.max(...gaps);
      t.equal(intervalMs, limitMs / 2, 'systemd asks for a ping every half WatchdogSec');
      t.ok(gaps.length >= (2_000 * tickMs) / intervalMs - 1, `${kind}: pings keep coming (${gaps.length})`);
      t.ok(
        max <= intervalMs + MAX_LATE_MS,
        `${kind}: largest gap ${max} ms (tick ${tickMs} ms): ${limitMs - max} ms to spare before systemd would kill`,
      );
    }
  });
}

t.test('no watchdog (WATCHDOG_USEC unset or for another process): no pings, the usual tick', async (t) => {
  for (const env of [{}, { WATCHDOG_USEC: '2000000', WATCHDOG_PID: String(process.pid + 1) }]) {
    const notifier = await systemdNotifier(env);
    let pings = 0;
    const onProgress = watchdogPinger({ ...notifier, watchdog: () => void (pings += 1) }, new DaemonStats(), DEFAULT_TIMINGS.tickMs);
    onProgress();
    onProgress();
    t.equal(pings, 0);
    t.equal(watchdogTickMs(DEFAULT_TIMINGS.tickMs, notifier.watchdogIntervalMs), DEFAULT_TIMINGS.tickMs);
  }
});
