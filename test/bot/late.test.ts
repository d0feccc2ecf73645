import t from 'tap';
import { lateLine, tooOldText } from '../../src/bot/late.js';

const at = (iso: string) => Date.parse(iso);

t.test('a late answer names the gap it fell in, else when the message was sent', async (t) => {
  const now = at('2026-11-30T10:04:30Z');
  t.equal(
    lateLine(at('2026-11-30T10:02:00Z'), now, { from: at('2026-11-30T10:01:05Z'), to: at('2026-11-30T10:04:12Z') }),
    'Answered late: I was offline from 10:01:05 to 10:04:12 UTC.',
  );
  t.equal(lateLine(at('2026-11-30T10:03:59Z'), now), 'Answered late: you sent this at 10:03:59 UTC.');
  t.equal(
    lateLine(at('2026-11-29T23:59:00Z'), now, { from: at('2026-11-29T23:58:00Z'), to: at('2026-11-30T00:03:00Z') }),
    'Answered late: I was offline from 2026-11-29 23:58:00 to 00:03:00 UTC.',
    'a time of another day carries its date',
  );
});

t.test('too old to run: when it was sent, and to send it again', async (t) => {
  t.equal(
    tooOldText(at('2026-11-30T08:01:05Z'), at('2026-11-30T10:04:30Z')),
    'Sorry, I was offline when this was sent (08:01:05 UTC), so I did not run it. If you still need it, please send it again.',
  );
});
