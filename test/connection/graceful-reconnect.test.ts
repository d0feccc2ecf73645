import t from 'tap';
import { FAST, startHarness } from '../kit/daemon-harness.js';
import { eventually, sleep } from '../kit/wait.js';

t.test('50 graceful reconnects under a steady message load: every message answered exactly once, one device', async (t) => {
  const h = await startHarness({ env: { TOODLES_RECONNECT_INTERVAL_S: '0.25', TOODLES_DRAIN_TIMEOUT_S: '0.1' }, tuning: FAST });
  t.teardown(() => h.stop());
  const { sim } = h;
  const room = sim.directRoom('carol@example.com');
  const asked: string[] = [];
  const rotations = () => h.logs.filter((l) => l.event === 'reconnect.done').length;
  while (rotations() < 50) {
    asked.push(sim.postMessage({ from: 'carol@example.com', roomId: room.id, text: 'ping' }).id);
    await sleep(20);
  }
  // Let the last replies land.
  await Promise.all(asked.map((id) => sim.waitForBotMessage((m) => m.parentId === id, 10_000)));
  await sleep(300);

  const answers = asked.map((id) => sim.repliesTo(id).length);
  t.equal(answers.filter((n) => n === 0).length, 0, `none of ${asked.length} messages lost`);
  t.equal(answers.filter((n) => n > 1).length, 0, 'none answered twice');
  t.equal(sim.devices().length, 1, 'one device registration for all reconnects');
  const done = h.logs.filter((l) => l.event === 'reconnect.done');
  t.ok(
    done.every((l) => l.reason === 'scheduled'),
    'all reconnects were the scheduled, graceful kind',
  );
  const deaf = done.map((l) => Number(l.deafMs));
  t.equal(Math.max(...deaf), 0, 'a receiving socket at every moment (make before break)');
  const durations = done.map((l) => Number(l.durationMs)).sort((a, b) => a - b);
  t.comment(
    `${done.length} reconnects, ${asked.length} messages; reconnect duration p50 ${durations[Math.floor(durations.length / 2)]} ms, max ${durations.at(-1)} ms; deaf max ${Math.max(...deaf)} ms`,
  );
  t.ok(
    h.logs.some((l) => l.event === 'activity.duplicate'),
    'both sockets delivered during overlaps and duplicates were dropped',
  );
  // Rotations go on every 250 ms, each with two sockets open for a moment: a leak never gets back to one.
  const open = () => sim.connections().filter((c) => c.open).length;
  await eventually('one open socket between rotations', () => open() === 1, 10_000);
  t.pass('old sockets are closed, not leaked');
});
