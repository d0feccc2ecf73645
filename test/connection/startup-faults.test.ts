import t from 'tap';
import { FAST, startHarness } from '../kit/daemon-harness.js';
import { answered } from '../kit/recovery.js';
import { startSimulator } from '../../src/simulator/index.js';

t.test('start-up survives Webex trouble: people/me failing, registrations refused', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  sim.faults.failRest({ path: 'people/me', status: 500, count: 6 });
  sim.faults.excessiveDeviceRegistrations();
  setTimeout(() => sim.faults.excessiveDeviceRegistrations(false), 2_000);
  const started = Date.now();
  const h = await startHarness({ sim, readyTimeoutMs: 30_000 });
  t.teardown(() => h.stop());
  t.comment(`ready ${Date.now() - started} ms after a start into a failing Webex`);
  t.ok(
    h.logs.some((l) => l.event === 'connection.state' && l.to === 'backing_off'),
    'it backed off rather than spinning',
  );
  await answered(h);
});

t.test('a slow device registration that outlives the start timeout does not become a second device', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  sim.faults.slowRest({ path: '/devices', method: 'POST', delayMs: 2_500, count: 1 });
  const h = await startHarness({ sim, tuning: { ...FAST, timings: { ...FAST.timings, startTimeoutMs: 1_000 } } });
  t.teardown(() => h.stop());
  await answered(h);
  t.ok(
    h.logs.some((l) => l.event === 'connection.state' && l.from === 'starting' && l.to === 'backing_off'),
    'the start did time out',
  );
  t.equal(sim.devices().length, 1, 'one registration in all: the retry waited for it and refreshed it');
});

t.test('a registration Webex completes after every attempt of ours timed out is deleted, not left behind', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  sim.faults.slowRest({ path: '/devices', method: 'POST', delayMs: 8_000, count: 1 });
  const h = await startHarness({ sim, readyTimeoutMs: 30_000, tuning: { ...FAST, requestTimeoutMs: 300 } });
  t.teardown(() => h.stop());
  await h.waitForLog('webex.device_orphan_removed', undefined, 20_000);
  await answered(h);
  const devices = sim.devices();
  t.equal(devices.filter((d) => !d.deleted).length, 1, 'exactly one live device');
  t.equal(devices.length, 2, 'the late one existed, and was deleted');
});
