import t from 'tap';
import { startHarness } from '../kit/daemon-harness.js';
import { ALICE, answered } from '../kit/recovery.js';

t.test('REST faults: retried with etiquette, never blocking other messages', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  await answered(h);

  await t.test('429 on a message fetch waits for Retry-After, then answers', async (t) => {
    h.sim.faults.failRest({ path: '/messages/', method: 'GET', status: 429, retryAfterSec: 1, count: 1 });
    const ms = await answered(h);
    t.ok(ms >= 1_000, `answered after Retry-After (${ms} ms)`);
    t.ok(h.logs.some((l) => l.event === 'webex.rest_retry' && l.status === 429 && l.waitMs === 1000));
  });
  await t.test('5xx on a fetch is retried with backoff', async (t) => {
    h.sim.faults.failRest({ path: '/messages/', method: 'GET', status: 500, count: 2 });
    await answered(h);
    t.ok(h.logs.filter((l) => l.event === 'webex.rest_retry' && l.status === 500).length >= 2);
  });
  await t.test('503 on sending the reply is retried, and the answer lands once', async (t) => {
    h.sim.faults.failRest({ path: '/messages', method: 'POST', status: 503, count: 1 });
    const room = h.sim.directRoom(ALICE);
    const asked = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
    await h.sim.waitForBotMessage((m) => m.parentId === asked.id, 10_000);
    await answered(h);
    t.equal(h.sim.repliesTo(asked.id).length, 1);
  });
  await t.test('404 on a message fetch is logged and skipped; the next message is answered', async (t) => {
    h.sim.faults.failRest({ path: '/messages/', method: 'GET', status: 404, count: 1 });
    const room = h.sim.directRoom(ALICE);
    const gone = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
    await answered(h);
    await h.waitForLog('activity.failed', (l) => /404/.test(String(l.err)));
    t.equal(h.sim.repliesTo(gone.id).length, 0);
  });
  await t.test('a slow fetch does not hold up other messages', async (t) => {
    h.sim.faults.slowRest({ path: '/messages/', method: 'GET', delayMs: 3_000, count: 1 });
    const room = h.sim.directRoom(ALICE);
    const slow = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
    const fastMs = await answered(h);
    t.ok(fastMs < 2_000, `the next message was answered in ${fastMs} ms while the first was stuck`);
    await h.sim.waitForBotMessage((m) => m.parentId === slow.id, 10_000);
  });
});
