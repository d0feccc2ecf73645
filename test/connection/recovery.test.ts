import t from 'tap';
import { Pacer, hedged, waitingText } from '../../src/connection/recovery.js';
import { eventually } from '../kit/wait.js';

// hedged() spaces its attempts with toodles' own sleep, whose timers are unref'd: while a test awaits
// only those, nothing would hold the process open and tap would find the test unfinished.
const holdOpen = setInterval(() => undefined, 60_000);
t.teardown(() => clearInterval(holdOpen));

t.test('paced: first attempt at once after a quiet spell, then 2.5-3 s apart, never growing', async (t) => {
  const p = new Pacer({ spacingMs: 2_500, jitterMs: 500, stableResetMs: 5_000 }, () => 0.5);
  t.equal(p.nextDelayMs(100_000), 0, 'immediate');
  t.equal(p.nextDelayMs(100_010), 2_740, 'one spacing after the last start');
  const delays = Array.from({ length: 50 }, (_, i) => p.nextDelayMs(102_750 + i * 2_750));
  t.ok(
    delays.every((d) => d <= 2_750),
    'no escalation over 50 attempts',
  );
  t.equal(p.attempts, 52);
  p.noteStable(4_999);
  t.equal(p.attempts, 52, 'not yet stable');
  p.noteStable(5_000);
  t.equal(p.attempts, 0, 'stable: the outage is over');
  t.equal(p.nextDelayMs(1_000_000), 0, 'a kill long after the last attempt is retried at once');
  t.equal(p.hedgeAfterMs, 2_500);
  p.attemptStarted(2_000_000);
  t.equal(p.nextDelayMs(2_000_100), 2_650, 'the first start counts: a failed start waits one spacing');
});

t.test('hedged: a hanging attempt gets a sibling; the first success wins, the rest are aborted or released', async (t) => {
  const p = new Pacer({ spacingMs: 30, jitterMs: 0, stableResetMs: 5_000 });
  p.nextDelayMs(Date.now());
  const aborted: number[] = [];
  const released: number[] = [];
  let n = 0;
  let succeedLate: (value: number) => void = () => undefined;
  const value = await hedged(
    (signal) => {
      const i = ++n;
      if (i === 1) return new Promise<number>((resolve) => (succeedLate = resolve)); // succeeds after the winner, however slow the machine
      if (i === 2)
        return new Promise<number>((_r, reject) => signal.addEventListener('abort', () => (aborted.push(i), reject(new Error('aborted')))));
      return Promise.resolve(i);
    },
    { policy: p, now: Date.now, signal: new AbortController().signal, release: (late) => released.push(late) },
  );
  t.equal(value, 3, 'the third attempt, started while two hung, won');
  t.same(aborted, [2], 'the hanging one was aborted');
  succeedLate(1);
  await eventually('the late success released', () => released.length > 0, 5_000);
  t.same(released, [1], 'a late success is released');
});

t.test('hedged: rejects once every attempt failed, or when aborted', async (t) => {
  const p = new Pacer({ spacingMs: 1_000, jitterMs: 0, stableResetMs: 5_000 });
  await t.rejects(
    hedged(() => Promise.reject(new Error('503')), {
      policy: p,
      now: Date.now,
      signal: new AbortController().signal,
      release: () => undefined,
    }),
    /503/,
  );
  const stop = new AbortController();
  const pending = hedged(() => new Promise<never>(() => undefined), {
    policy: p,
    now: Date.now,
    signal: stop.signal,
    release: () => undefined,
  });
  stop.abort();
  await t.rejects(pending, /aborted/);
});

t.test('waiting text', async (t) => {
  t.equal(waitingText(180_000, 2_600, 70), 'Webex unreachable for 3 min; next attempt in 2.6 s (attempt 70)');
  t.equal(waitingText(45_000, 0, 2), 'Webex unreachable for 45 s; next attempt in 0 s (attempt 2)');
});
