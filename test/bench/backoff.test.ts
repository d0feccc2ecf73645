import t from 'tap';
import { Backoff } from '../../bench/backoff.js';

t.test('full jitter under an exponential ceiling, capped, reset after a stable period', async (t) => {
  const policy = { baseMs: 1_000, capMs: 60_000, stableResetMs: 60_000 };
  const top = new Backoff(policy, () => 0.999999);
  const ceilings = Array.from({ length: 9 }, () => top.nextDelayMs());
  t.same(ceilings, [999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999], 'doubling up to the 60 s cap');
  t.equal(new Backoff(policy, () => 0).nextDelayMs(), 0, 'jitter reaches down to zero');
  top.noteStable(59_000);
  t.equal(top.attempts, 9, 'not yet stable');
  top.noteStable(60_000);
  t.equal(top.attempts, 0);
  t.ok(top.nextDelayMs() < 1_000, 'first retry within 1 s again');
});
