/**
 * Socket kills and silent cuts at the default settings (issue 11), through the real SDK:
 * - ten kills (no close frame), 5 s apart: the first retry is immediate every time and succeeds (no
 *   escalation); how soon it answers again is printed here and measured by bench:catchup, not asserted;
 * - a tunnel silently cut at the proxy (TCP open, nothing moves): noticed within 12 s, answering
 *   within 2 s after that;
 * - graceful rotations more often than the stability period no longer keep the retry policy from
 *   forgetting past failures (the bug: every rotation restarted the "online since" clock).
 */
import t from 'tap';
import { Backoff } from '../../bench/backoff.js';
import { CuttingProxy } from '../kit/cutting-proxy.js';
import { startHarness } from '../kit/daemon-harness.js';
import { ALICE } from '../kit/recovery.js';
import { eventually, sleep } from '../kit/wait.js';

// Each test has its own simulator and daemon, and mostly waits out its intervals: all at once.
t.jobs = 3;

t.test('ten kills 5 s apart: immediate retries that succeed, no escalation', async (t) => {
  const h = await startHarness({ tuning: {} });
  t.teardown(() => h.stop());
  const room = h.sim.directRoom(ALICE);
  const answers: number[] = [];
  const waits: number[] = [];
  const attempts: number[] = [];
  for (let i = 0; i < 10; i++) {
    await sleep(5_000);
    const from = h.logs.length;
    const killed = Date.now();
    h.sim.faults.killSockets();
    const asked = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
    await h.sim.waitForBotMessage((m) => m.parentId === asked.id, 15_000);
    answers.push(Date.now() - killed);
    const done = await h.waitForLog('reconnect.done', (l) => h.logs.indexOf(l) >= from);
    const cycle = h.logs.slice(from, h.logs.indexOf(done));
    const wait = cycle.find((l) => l.event === 'reconnect.wait');
    waits.push(Number(wait?.delayMs ?? -1));
    attempts.push(cycle.filter((l) => l.event === 'connection.state' && l.to === 'connecting').length);
  }
  const sorted = [...answers].sort((a, b) => a - b);
  const p50 = (sorted[4]! + sorted[5]!) / 2;
  t.comment(`kill -> answering: ${answers.join(', ')} ms (p50 ${p50} ms); retry delays ${waits.join(', ')} ms`);
  t.same(waits, Array(10).fill(0), 'every first retry was immediate');
  t.same(attempts, Array(10).fill(1), 'and each reconnected at its first attempt: nothing escalated');
});

t.test('a silently cut tunnel is noticed within 12 s and answering within 2 s after', async (t) => {
  const proxy = await CuttingProxy.start();
  const h = await startHarness({ tuning: {}, env: { TOODLES_PROXY_URL: proxy.url } });
  t.teardown(async () => {
    await h.stop();
    await proxy.close();
  });
  const room = h.sim.directRoom(ALICE);
  for (let i = 0; i < 3; i++) {
    await sleep(1_000 + i * 1_700); // cut at different points of the ping cycle
    const from = h.logs.length;
    const cut = Date.now();
    proxy.cutAll();
    const noticed = await h.waitForLog('reconnect.start', (l) => h.logs.indexOf(l) >= from, 20_000);
    const noticedMs = Date.now() - cut;
    // Until Webex itself notices, what it sends goes down the dead tunnel: ask once the new socket is up.
    await h.waitForLog('reconnect.done', (l) => h.logs.indexOf(l) >= from, 15_000);
    const asked = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
    await h.sim.waitForBotMessage((m) => m.parentId === asked.id, 15_000);
    const answerMs = Date.now() - cut - noticedMs;
    t.comment(`cut ${i + 1}: noticed after ${noticedMs} ms (${String(noticed.reason)}), answering ${answerMs} ms later`);
    t.ok(noticedMs <= 12_000, `noticed in ${noticedMs} ms <= 12 s`);
    t.ok(answerMs <= 2_000, `answering ${answerMs} ms after noticing <= 2 s`);
  }
  // A ping every 5 s: polite. Count the pings of the last socket over a quiet 10 s.
  const pingsFrom = h.sim.traffic().length;
  await sleep(10_000);
  const pings = h.sim
    .traffic()
    .slice(pingsFrom)
    .filter((l) => l.kind === 'ws-in' && (l.frame as { type?: string })?.type === 'ping').length;
  t.ok(pings >= 1 && pings <= 3, `${pings} pings in 10 s (one per 5 s)`);
});

t.test('graceful rotations every 0.4 s do not keep the retry policy from resetting', async (t) => {
  // The old policy, whose reset needs 2 s online here: with rotations every 0.4 s it never came.
  const h = await startHarness({
    env: { TOODLES_RECONNECT_INTERVAL_S: '0.4', TOODLES_DRAIN_TIMEOUT_S: '0.1' },
    tuning: { retry: () => new Backoff({ baseMs: 1_000, capMs: 60_000, stableResetMs: 2_000 }) },
  });
  t.teardown(() => h.stop());
  h.sim.faults.refuseUpgrades({ count: 4 });
  h.sim.faults.killSockets();
  await h.waitForLog('reconnect.done', undefined, 60_000);
  const rotationsFrom = h.logs.length;
  await sleep(3_000);
  const rotations = h.logs.slice(rotationsFrom).filter((l) => l.event === 'reconnect.done').length;
  t.ok(rotations >= 4, `${rotations} graceful rotations in 3 s`);
  // Killed mid-rotation, the next socket may take over without a retry at all: kill between two.
  await eventually('online between two rotations', () => h.daemon.status().state === 'online', 10_000);
  const from = h.logs.length;
  h.sim.faults.killSockets();
  const wait = await h.waitForLog('reconnect.wait', (l) => h.logs.indexOf(l) >= from, 30_000);
  t.equal(wait.attempt, 1, 'the failures before were forgotten: attempt 1 again, not 6');
});
