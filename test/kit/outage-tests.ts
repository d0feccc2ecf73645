/**
 * Tests of recovery at the default settings (issue 11), through the real SDK and the simulator: for every
 * outage kind, at a short length and at a long one (the daemon's clock jumps ten minutes forward
 * half-way through, so the policy sees a ten-minute outage), the bot answers again within 5 s of
 * the lift while it made at most one attempt per 2 s on average and never 40 in a minute.
 */
import type { Test } from 'tap';
import { OUTAGES, runOutage } from './outages.js';

// Longer than detection takes (a ping every 5 s, given up after 4 s), so every kind is noticed inside it.
const SHORT_MS = 12_000;
const LONG_JUMP_MS = 10 * 60_000;

/** One test per outage kind, at the short length or standing for ten minutes. */
export function outageTests(t: Test, long: boolean): void {
  // Each kind has its own simulator and daemon, and mostly waits: four at once, as bench:recovery runs them.
  t.jobs = 4;
  for (const kind of OUTAGES) {
    t.test(`${kind.name}, ${long ? '10 min (clock jump)' : `${SHORT_MS / 1000} s`}`, async (t) => {
      const r = await runOutage({ kind, outageMs: SHORT_MS, tuning: {}, clockJumpMs: long ? LONG_JUMP_MS : undefined });
      t.comment(
        `${kind.name}${long ? ' (long)' : ''}: detected ${r.detectMs ?? '-'} ms, answering ${r.answerMs} ms after the lift, ` +
          `${r.attempts} attempts in ${r.outageMs / 1000} s (${r.perMinute.toFixed(1)}/min; ${r.requests} requests seen)`,
      );
      t.ok(r.answerMs <= 5_000, `answering ${r.answerMs} ms after the lift (<= 5 s)`);
      // One attempt at once, then one per 2 s at most (the clock jump itself earns one more at once).
      const allowed = 1 + r.outageMs / 2_000 + (long ? 1 : 0);
      t.ok(r.attempts <= allowed, `${r.attempts} attempts in ${r.outageMs} ms: <= 1 per 2 s`);
      t.ok(r.peakPerMinute <= 40, `peak ${r.peakPerMinute} per minute <= 40`);
      if (kind.phase === 'running') t.ok((r.detectMs ?? Infinity) <= 12_000, `noticed in ${r.detectMs} ms`);
      const waiting = r.statuses.find((s) => /Webex unreachable for .*next attempt in/.test(s) || /Cannot reach Webex yet/.test(s));
      t.ok(waiting, `STATUS= says what it waits for: ${waiting ?? r.statuses.at(-1)}`);
      if (long && kind.phase === 'running')
        t.ok(
          r.statuses.some((s) => /unreachable for 1\d min/.test(s)),
          'STATUS= counts the long outage in minutes',
        );
    });
  }
}
