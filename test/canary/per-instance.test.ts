/**
 * The canary per instance (issue 14): with two instances on one bot, the bot's answer alone proves
 * nothing about THIS instance, so the canary also asks the local daemon whether its own sockets
 * delivered the ping. Two in-process daemons on one simulator; one made deaf (its device gets no
 * events): a peer still answers, the canary against the deaf one fails at stage `local` and heals it.
 */
import t from 'tap';
import { startHarness } from '../kit/daemon-harness.js';
import { captureLog } from '../kit/log-capture.js';
import { runtimeDir } from '../kit/observe.js';
import { startSimulator } from '../../src/simulator/index.js';
import { runCanary } from '../../src/canary/canary.js';
import { Hydra } from '../../src/canary/hydra.js';
import { controlRequest } from '../../src/control/client.js';
import type { StatusDocument } from '../../src/control/status.js';

const CANARY = 'canary@webex.bot';
const ACCESS = { TOODLES_ALLOWED_EMAILS: CANARY };

t.test('two instances on one bot: the canary proves that the instance it runs beside heard its ping', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const { token } = sim.addIdentity({ email: CANARY, displayName: 'Canary' });
  const hydra = new Hydra(sim.hydraUrl, token, undefined);
  const instance = async () => {
    const dir = runtimeDir(t);
    const h = await startHarness({ sim, env: { ...ACCESS, TOODLES_RUNTIME_DIR: dir } });
    t.teardown(() => h.stop());
    const socket = `${dir}/control.sock`;
    const captured = captureLog();
    return {
      h,
      socket,
      logs: captured.lines,
      canary: () => runCanary({ hydra, socketPath: socket, timeoutMs: 3_000, log: captured.logger, pollMs: 50 }),
    };
  };
  const a = await instance();
  const b = await instance();
  const space = sim.directRoom(CANARY);
  /** The canary's latest ping (the thread the bot's latest answer in their space is in) and its answers. */
  const lastPing = () => [...sim.botMessages()].filter((m) => m.roomId === space.id).pop()?.parentId;
  const answers = (pingId: string | undefined) => (pingId ? sim.repliesTo(pingId).length : 0);

  await t.test('both hear: each instance passes; /heard says yes for the ping only', async (t) => {
    t.match(await a.canary(), { ok: true });
    t.match(await b.canary(), { ok: true });
    const ping = lastPing();
    t.ok(ping, 'the canary posted ping and the bot answered in its thread');
    for (const socket of [a.socket, b.socket]) {
      t.match((await controlRequest(socket, 'GET', `/heard?id=${encodeURIComponent(ping!)}`)).body, { id: ping, heard: true });
      t.match((await controlRequest(socket, 'GET', '/heard?id=never-sent')).body, { heard: false });
    }
    const missing = await controlRequest(a.socket, 'GET', '/heard');
    t.equal(missing.status, 400, 'no id: a clear 400');
    t.match(missing.body.error, /"id"/);
  });

  await t.test('B deaf: A still answers, the canary beside B fails at `local` twice, then B rebuilds and passes', async (t) => {
    const url = ((await controlRequest(b.socket, 'GET', '/status')).body as unknown as StatusDocument).device?.url;
    const deviceOfB = sim.devices().find((d) => !d.deleted && d.url === url);
    t.ok(deviceOfB, "B's device, by the URL in its status");
    t.equal(sim.faults.deafDevice(deviceOfB!.id), 1, "B's device only is deaf");

    const first = await b.canary();
    t.match(first, { ok: false, stage: 'local' });
    t.equal(answers(lastPing()), 1, 'the bot did answer (A alone): the answer could not tell');
    t.match(
      b.logs.find((l) => l.event === 'canary.failed'),
      { stage: 'local', reason: /never heard the ping/ },
    );
    t.match(((await controlRequest(b.socket, 'GET', '/status')).body as unknown as StatusDocument).canary, {
      consecutiveFailures: 1,
      last: { ok: false, stage: 'local' },
    });
    t.match(await a.canary(), { ok: true }, 'the canary beside A passes meanwhile');

    const second = await b.canary();
    t.match(second, { ok: false, stage: 'local', healed: 'rebuild' });
    const done = await b.h.waitForLog('reconnect.done', (l) => /canary failed 2 times in a row \(last at local\)/.test(String(l.reason)));
    t.comment(`B rebuilt onto a new device in ${String(done.durationMs)} ms`);
    t.equal(a.h.logs.filter((l) => l.event === 'daemon.heal').length, 0, 'A was left alone');
    await b.h.waitForLog('webex.device_dropped');
    t.notOk(
      sim.devices().find((d) => d.id === deviceOfB!.id && !d.deleted),
      "B's deaf device is gone",
    );

    t.match(await b.canary(), { ok: true }, 'healed: B hears its canary again');
    t.equal(answers(lastPing()), 2, 'and both instances answer again (no claims without a database)');
  });
});
