import t from 'tap';
import { startSimulator } from '../../src/simulator/index.js';
import { startBot } from '../kit/sim-bot.js';
import { eventually, sleep } from '../kit/wait.js';

t.test('liveness faults', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  t.afterEach(() => sim.faults.clear());

  for (const redelivery of ['queue', 'none'] as const) {
    const fate = redelivery === 'queue' ? 'delivered on the next socket' : 'gone';
    t.test(
      `silence: no pongs -> "Pong not received", reconnect; redelivery '${redelivery}': what was sent meanwhile is ${fate}`,
      async (t) => {
        sim.faults.redelivery(redelivery);
        const bot = await startBot(sim);
        t.teardown(() => bot.close());
        const room = sim.directRoom('alice@example.com');
        sim.faults.silence();
        const msg = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'during silence' });
        await eventually('pong timeout', () => bot.events.includes('offline.transient:1000'), 3000);
        t.notOk(
          bot.created.some((e) => e.data.id === msg.id),
          'nothing delivered while silent',
        );
        sim.faults.silence(false);
        // The SDK's next socket is accepted (under 'queue' the queued event arrives on it first).
        // Generous: the SDK's own reconnect backoff, on a machine that may be loaded (CI runs stress-ng beside it).
        await eventually('online again', () => bot.events.filter((e) => e === 'online').length === 2, 15_000);
        const after = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'after silence' });
        await eventually('the event after silence', () => bot.created.some((e) => e.data.id === after.id));
        await eventually('the silenced one, under queue', () => redelivery === 'none' || bot.created.some((e) => e.data.id === msg.id));
        t.equal(bot.created.filter((e) => e.data.id === msg.id).length, redelivery === 'queue' ? 1 : 0);
        t.ok(bot.webex.internal.mercury.connected);
      },
    );
  }

  t.test("silence under 'queue': a socket that came up while the server was silent gets what waited once it speaks again", async (t) => {
    sim.faults.redelivery('queue');
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    const room = sim.directRoom('alice@example.com');
    sim.faults.silence();
    const msg = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'during silence' });
    await eventually('online again while still silent', () => bot.events.filter((e) => e === 'online').length === 2, 15_000);
    t.notOk(
      bot.created.some((e) => e.data.id === msg.id),
      'nothing delivered while silent',
    );
    sim.faults.silence(false);
    await eventually('the queued event on the socket that came up meanwhile', () => bot.created.some((e) => e.data.id === msg.id));
    t.equal(bot.created.filter((e) => e.data.id === msg.id).length, 1, 'delivered once');
    t.equal(bot.events.filter((e) => e === 'online').length, 2, 'on that socket, not on one more reconnect later');
  });

  t.test('stop reading: pings unread -> pong timeout; the next socket hangs until reads resume', async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    sim.faults.stopReading();
    await eventually('pong timeout', () => bot.events.includes('offline.transient:1000'), 3000);
    await sleep(300);
    t.equal(bot.events.filter((e) => e === 'online').length, 1, 'no online while the server reads nothing');
    sim.faults.stopReading(false);
    await eventually('online after reads resume', () => bot.events.filter((e) => e === 'online').length === 2, 3000);
  });

  t.test('refuse upgrades with 503: the SDK retries with backoff', async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    sim.faults.refuseUpgrades({ count: 3 });
    sim.faults.killSockets();
    await eventually('online after refusals', () => bot.events.filter((e) => e === 'online').length === 2, 5000);
    const refused = sim.traffic().filter((l) => l.kind === 'ws-refused');
    t.equal(refused.length, 3);
    t.ok(refused.every((l) => l.status === 503));
  });

  t.test('refuse upgrades for a while (time based)', async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    const t0 = Date.now();
    sim.faults.refuseUpgrades({ forMs: 400 });
    sim.faults.killSockets();
    await eventually('online after window', () => bot.events.filter((e) => e === 'online').length === 2, 5000);
    t.ok(Date.now() - t0 >= 400, 'not before the window closed');
  });

  t.test('withhold buffer_state: socket authorized, SDK never online until the next good socket', async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    sim.faults.withholdBufferState();
    sim.faults.killSockets();
    await eventually('new socket authorized', () => sim.connections().some((c) => c.open && c.authorized));
    await sleep(400);
    t.equal(bot.webex.internal.mercury.connected, false, 'SDK stuck connecting (it has no timeout for this)');
    t.equal(bot.events.filter((e) => e === 'online').length, 1);
    sim.faults.withholdBufferState(false);
    // Killing the stuck socket fails the attempt; the retry gets a buffer_state.
    sim.faults.killSockets();
    await eventually('online after retry', () => bot.events.filter((e) => e === 'online').length === 2, 3000);
  });
});
