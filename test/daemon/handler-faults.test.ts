import t from 'tap';
import { FAST, startHarness } from '../kit/daemon-harness.js';
import { ALICE, answered } from '../kit/recovery.js';
import type { Command } from '../../src/bot/command.js';
import { startSimulator } from '../../src/simulator/index.js';

t.test('command handlers that throw or hang answer with a reference the log explains', async (t) => {
  const boom: Command = {
    keyword: 'boom',
    description: 'throws',
    run: async () => {
      throw new Error('kaboom');
    },
  };
  const hang: Command = { keyword: 'hang', description: 'never returns', run: () => new Promise(() => undefined) };
  const h = await startHarness({ tuning: { ...FAST, handlerTimeoutMs: 500, extraCommands: [boom, hang] } });
  t.teardown(() => h.stop());
  const room = h.sim.directRoom(ALICE);
  for (const name of ['boom', 'hang']) {
    const asked = h.sim.postMessage({ from: ALICE, roomId: room.id, text: name });
    const reply = await h.sim.waitForBotMessage((m) => m.parentId === asked.id, 5_000);
    const ref = /Reference: ([0-9a-f]{8})/.exec(reply.markdown ?? '')?.[1];
    t.ok(ref, `${name}: the user gets a short error with a reference`);
    const logged = h.logs.find((l) => l.event === 'command.failed' && l.ref === ref);
    t.ok(logged, `${name}: the reference is in the log`);
    t.match(String(logged?.err), name === 'boom' ? /kaboom/ : /timed out/);
  }
  const asked = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'help' });
  const help = await h.sim.waitForBotMessage((m) => m.parentId === asked.id, 5_000);
  t.match(help.markdown, /`boom`: throws/, 'help lists commands added beside the built-in ones');
});

t.test('a rejected token (4401) stops the daemon with exit status 77 and says why', async (t) => {
  const h = await startHarness();
  h.sim.faults.closeSockets(4401, 'unauthorized');
  const code = await h.daemon.done;
  t.equal(code, 77);
  t.equal(h.daemon.status().state, 'failed');
  t.ok(
    h.notices.some((n) => /^STATUS=Failed: Webex refused the connection \(4401/.test(n)),
    'STATUS says why',
  );
  await h.sim.stop();
});

t.test('a reply still on its way when the handler times out is not followed by an error message', async (t) => {
  const h = await startHarness({ tuning: { ...FAST, handlerTimeoutMs: 500 } });
  t.teardown(() => h.stop());
  h.sim.faults.slowRest({ path: '/messages', method: 'POST', delayMs: 1_500, count: 1 });
  const room = h.sim.directRoom(ALICE);
  const asked = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
  await h.waitForLog('command.failed', (l) => l.replyInFlight === true);
  await h.sim.waitForBotMessage((m) => m.parentId === asked.id, 5_000);
  await answered(h); // later traffic has flowed, so a stray second reply would have landed by now
  t.equal(h.sim.repliesTo(asked.id).length, 1, 'the pong arrives, alone');
  t.match(h.sim.repliesTo(asked.id)[0]?.markdown, /^pong/);
});

t.test('after the SDK instance is renewed, stopping still unregisters the device', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const h = await startHarness({ sim });
  await answered(h);
  process.emit('unhandledRejection', new Error('simulated SDK glitch'), Promise.resolve());
  await h.waitForLog('webex.sdk_renew');
  t.equal(await h.stop(), 0);
  t.same(
    sim.devices().map((d) => d.deleted),
    [true],
    'the one device is deleted',
  );
});
