import t from 'tap';
import { startSimulator } from '../../src/simulator/index.js';
import { startBot } from '../kit/sim-bot.js';
import { eventually } from '../kit/wait.js';

t.test('REST faults', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  const bot = await startBot(sim);
  t.teardown(() => bot.close());
  t.afterEach(() => sim.faults.clear());

  t.test('429 with Retry-After on POST /messages', async (t) => {
    sim.faults.failRest({ path: '/v1/messages', method: 'POST', status: 429, retryAfterSec: 1, count: 1 });
    const err = await bot.webex.messages.create({ toPersonEmail: 'a@example.com', text: 'x' }).then(
      () => undefined,
      (e: { statusCode?: number; headers?: Record<string, string> }) => e,
    );
    t.equal(err?.statusCode, 429);
    t.equal(err?.headers?.['retry-after'], '1');
    // The rule was count-limited: the next call goes through.
    const ok = await bot.webex.messages.create({ toPersonEmail: 'a@example.com', text: 'y' });
    t.ok(ok.id);
  });

  for (const status of [404, 500, 503]) {
    t.test(`${status} on GET people`, async (t) => {
      sim.faults.failRest({ path: '/v1/people/', status, count: 5 });
      const err = await bot.webex.people.get('me').then(
        () => undefined,
        (e: { statusCode?: number }) => e,
      );
      t.equal(err?.statusCode, status);
    });
  }

  t.test('slow responses', async (t) => {
    sim.faults.slowRest({ path: '/v1/rooms', delayMs: 300, count: 1 });
    const room = sim.directRoom('slow@example.com');
    const t0 = Date.now();
    await bot.webex.rooms.get(room.id);
    t.ok(Date.now() - t0 >= 290, 'took at least the delay');
  });

  t.test('404 on the message fetch after an event: the SDK rejects unhandled', async (t) => {
    const seen: unknown[] = [];
    const onRejection = (e: unknown) => void seen.push(e);
    // Node 20 exits on unhandled rejections; the daemon must install a handler like this one.
    const listeners = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', onRejection);
    t.teardown(() => {
      process.off('unhandledRejection', onRejection);
      for (const l of listeners) process.on('unhandledRejection', l);
    });
    sim.faults.failRest({ path: '/v1/messages/', method: 'GET', status: 404, count: 1 });
    const room = sim.directRoom('ghost@example.com');
    const msg = sim.postMessage({ from: 'ghost@example.com', roomId: room.id, text: 'vanished' });
    await eventually('unhandled rejection', () => seen.length > 0);
    t.equal((seen[0] as { statusCode?: number }).statusCode, 404);
    t.notOk(
      bot.created.some((e) => e.data.id === msg.id),
      'no created event',
    );
  });

  t.test('excessive device registrations: SDK deletes a third of its devices and retries', async (t) => {
    const extra = [await startBot(sim), await startBot(sim)];
    t.teardown(() => Promise.all(extra.map((b) => b.close())).then(() => undefined));
    const live = sim.devices().filter((d) => !d.deleted).length;
    t.equal(live, 3);
    sim.faults.excessiveDeviceRegistrations({ limit: 3 });
    const fourth = await startBot(sim);
    t.teardown(() => fourth.close());
    const regs = sim.traffic().filter((l) => l.kind === 'http' && l.method === 'POST' && String(l.path).startsWith('/wdm/api/v1/devices'));
    t.same(
      regs.slice(-2).map((l) => l.status),
      [403, 200],
      'refused, then accepted',
    );
    t.ok(
      sim.traffic().some((l) => l.kind === 'http' && l.method === 'GET' && l.path === '/wdm/api/v1/devices'),
      'SDK listed devices',
    );
    t.equal(sim.devices().filter((d) => d.deleted).length, 1, 'deleted the oldest');
    t.ok(fourth.webex.internal.mercury.connected);
  });

  t.test('excessive device registrations always: listen() fails', async (t) => {
    sim.faults.excessiveDeviceRegistrations();
    const err = await startBot(sim).then(
      () => undefined,
      (e: { statusCode?: number }) => e,
    );
    t.equal(err?.statusCode, 403);
  });
});
