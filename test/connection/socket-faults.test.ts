import t from 'tap';
import { startHarness } from '../kit/daemon-harness.js';
import { ALICE, answered, recovers } from '../kit/recovery.js';

t.test('socket faults: the supervisor reconnects on its own terms', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  await answered(h);

  await t.test('killed without a close frame (1006)', (t) => recovers(t, h, 'kill', () => h.sim.faults.killSockets(), /1006/));
  await t.test('closed 1011 (server error)', (t) => recovers(t, h, '1011', () => h.sim.faults.closeSockets(1011, 'server error'), /1011/));
  await t.test('closed 1000 with a reason the SDK would give up on', (t) =>
    recovers(t, h, '1000', () => h.sim.faults.closeSockets(1000, 'going away for good'), /1000/),
  );
  await t.test('closed 4000 (replaced)', (t) => recovers(t, h, '4000', () => h.sim.faults.closeSockets(4000, 'replaced'), /4000/));
  await t.test('Webex drain: a shutdown frame, then 4001: a graceful move with no deaf time', async (t) => {
    await recovers(t, h, 'drain 4001', () => h.sim.faults.closeSockets(4001, 'drain', { graceMs: 500 }), /announced/);
    const done = h.logs.filter((l) => l.event === 'reconnect.done').at(-1)!;
    t.equal(done.deafMs, 0, 'the next socket was online before the old one closed');
  });
  await t.test('upgrades refused (503) three times: backoff, then back', async (t) => {
    await recovers(
      t,
      h,
      'refused upgrades',
      () => {
        h.sim.faults.refuseUpgrades({ count: 3 });
        h.sim.faults.killSockets();
      },
      /1006/,
    );
    const refused = h.sim.traffic().filter((l) => l.kind === 'ws-refused').length;
    t.equal(refused, 3, 'every refusal was met by one paced attempt');
  });
  await t.test(
    'socket accepted but buffer_state never sent: hedged attempts beside the hanging ones, paced; the first after the lift recovers',
    async (t) => {
      const from = h.sim.traffic().length;
      await recovers(
        t,
        h,
        'no buffer_state',
        () => {
          h.sim.faults.withholdBufferState(true);
          setTimeout(() => h.sim.faults.withholdBufferState(false), 4_000);
          h.sim.faults.killSockets();
        },
        /1006/,
      );
      const upgrades = h.sim
        .traffic()
        .slice(from)
        .filter((l) => l.kind === 'ws-upgrade').length;
      // FAST paces at 1-1.2 s: at most one at once and one a second during the 4 s, one after.
      t.ok(upgrades >= 3 && upgrades <= 6, `${upgrades} upgrades: hedged, not one 3 s timeout after another, and paced`);
    },
  );
  await t.test('zombie socket (open, silent): detected by liveness, well inside 30 s', async (t) => {
    const room = h.sim.directRoom(ALICE);
    await recovers(
      t,
      h,
      'silence',
      () => {
        h.sim.faults.silence(true);
        setTimeout(() => h.sim.faults.silence(false), 3_000);
      },
      /no sign of life|Pong not received/,
    );
    const during = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
    await h.sim.waitForBotMessage((m) => m.parentId === during.id, 10_000);
    t.equal(h.sim.repliesTo(during.id).length, 1);
  });
  await t.test('server stops reading the socket', (t) =>
    recovers(
      t,
      h,
      'stop reading',
      () => {
        h.sim.faults.stopReading(true);
        setTimeout(() => h.sim.faults.stopReading(false), 3_000);
      },
      /no sign of life|Pong not received|closed/,
    ),
  );
  await t.test('malformed and oversized frames are dropped; the bot keeps answering', async (t) => {
    for (const kind of ['not-json', 'binary', 'no-data', 'unknown-event'] as const) h.sim.faults.malformedFrame(kind);
    h.sim.faults.oversizedFrame(512 * 1024);
    t.ok((await answered(h)) < 5_000);
    t.equal(h.daemon.status().state, 'online');
  });
});
