import t from 'tap';
import { splitReply, WEBEX_MAX_CHARS } from '../../src/bot/split-reply.js';

t.test('short replies are left alone', async (t) => {
  t.same(splitReply('pong'), ['pong']);
  t.same(splitReply('x'.repeat(WEBEX_MAX_CHARS)), ['x'.repeat(WEBEX_MAX_CHARS)]);
});

t.test('long replies split at line boundaries, nothing lost', async (t) => {
  const lines = Array.from({ length: 300 }, (_v, i) => `line ${i} `.padEnd(60, '.'));
  const parts = splitReply(lines.join('\n'));
  t.equal(parts.length, 3);
  for (const p of parts) t.ok(p.length <= WEBEX_MAX_CHARS);
  t.same(parts.join('\n').split('\n'), lines, 'every line once, in order, none broken');
});

t.test('a line longer than a message is cut where it must be', async (t) => {
  const parts = splitReply('a'.repeat(10_000));
  t.same(
    parts.map((p) => p.length),
    [WEBEX_MAX_CHARS, 10_000 - WEBEX_MAX_CHARS],
  );
});

t.test('past the part limit the rest is cut with a note', async (t) => {
  const lines = Array.from({ length: 2000 }, (_v, i) => `line ${i} `.padEnd(60, '.'));
  const parts = splitReply(lines.join('\n'), WEBEX_MAX_CHARS, 4);
  t.equal(parts.length, 4);
  for (const p of parts) t.ok(p.length <= WEBEX_MAX_CHARS);
  t.match(parts[3], /\(cut: \d+ more lines not shown\)_$/);
});
