import type { Test } from 'tap';
import type { Harness } from './daemon-harness.js';

export const ALICE = 'alice@example.com';

/** Posts `ping` and resolves with how long the answer took; the proof the bot hears and speaks. */
export async function answered(h: Harness, timeoutMs = 15_000): Promise<number> {
  const room = h.sim.directRoom(ALICE);
  const started = Date.now();
  const asked = h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
  await h.sim.waitForBotMessage((m) => m.parentId === asked.id, timeoutMs);
  return Date.now() - started;
}

/** Injects a fault, waits for the reconnect it causes, and proves the bot answers again. */
export async function recovers(t: Test, h: Harness, name: string, inject: () => void, reason: RegExp) {
  const before = h.logs.filter((l) => l.event === 'reconnect.done').length;
  const started = Date.now();
  inject();
  const done = await h.waitForLog(
    'reconnect.done',
    (l) => reason.test(String(l.reason)) && h.logs.filter((x) => x.event === 'reconnect.done').indexOf(l) >= before,
    30_000,
  );
  const recoveredMs = Date.now() - started;
  const answerMs = await answered(h);
  t.comment(
    `${name}: reconnected in ${String(done.durationMs)} ms (deaf ${String(done.deafMs)} ms), answering again ${recoveredMs + answerMs} ms after the fault`,
  );
  t.equal(h.sim.devices().filter((d) => !d.deleted).length, 1, `${name}: still one device`);
}
