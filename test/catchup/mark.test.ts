import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeardMark, MARK_FILE, MARK_WRITE_EVERY_MS } from '../../src/catchup/mark.js';
import { tempStateDir as stateDir } from '../kit/commands.js';
import { captureLog } from '../kit/log-capture.js';

const NOW = Date.parse('2026-11-30T10:00:00Z');

function markIn(dir: string, now = () => NOW) {
  const { logger, lines } = captureLog();
  return { mark: new HeardMark({ stateDir: dir, log: logger, now }), lines };
}

t.test('no file: a first start, no mark and no warning', async (t) => {
  const { mark, lines } = markIn(stateDir(t));
  t.equal(mark.previous, undefined);
  t.equal(mark.current(), undefined);
  t.same(lines, []);
});

t.test('advanced while online: written at once, then at most every few seconds; read back by the next process', async (t) => {
  const dir = stateDir(t);
  let now = NOW;
  const { mark } = markIn(dir, () => now);
  mark.advance(NOW - 200);
  const file = join(dir, MARK_FILE);
  const written = () => (JSON.parse(readFileSync(file, 'utf8')) as { heardThroughMs: number }).heardThroughMs;
  t.equal(written(), NOW - 200, 'the first mark is written at once');
  now += 1_000;
  mark.advance(now);
  t.equal(mark.current(), now, 'the mark moves in memory');
  t.equal(written(), NOW - 200, 'but not to disk within the interval');
  now += MARK_WRITE_EVERY_MS;
  mark.advance(now);
  t.equal(written(), now, 'written again once the interval has passed');
  mark.advance(now - 10_000);
  t.equal(mark.current(), now, 'never moves back');
  t.same(readdirSync(dir), [MARK_FILE], 'no temporary file left behind');

  const next = markIn(dir, () => now + 60_000).mark;
  t.equal(next.previous, now, 'the next process starts from it');
});

t.test('a torn, empty or garbage file is no mark, with a warning naming the file', async (t) => {
  for (const [what, content] of [
    ['torn', '{"heardThroughMs":17648'],
    ['empty', ''],
    ['garbage', 'not json at all'],
    ['wrong shape', '{"heardThrough":"yesterday"}'],
    ['not a time', '{"heardThroughMs":-5}'],
  ] as const) {
    const dir = stateDir(t);
    writeFileSync(join(dir, MARK_FILE), content);
    const { mark, lines } = markIn(dir);
    t.equal(mark.previous, undefined, `${what}: no mark`);
    const warning = lines.find((l) => l.event === 'catchup.mark_unreadable');
    t.ok(warning, `${what}: warned`);
    t.equal(warning?.file, join(dir, MARK_FILE));
  }
});

t.test('a mark later than now (the clock jumped back) is clamped to now, with a warning', async (t) => {
  const dir = stateDir(t);
  writeFileSync(join(dir, MARK_FILE), JSON.stringify({ heardThroughMs: NOW + 3_600_000 }));
  const { mark, lines } = markIn(dir);
  t.equal(mark.previous, NOW);
  t.match(
    lines.find((l) => l.event === 'catchup.mark_ahead'),
    { aheadMs: 3_600_000 },
  );
});

t.test('a mark that cannot be written: one warning per failing spell, the mark still moves in memory', async (t) => {
  const dir = stateDir(t);
  let now = NOW;
  const { mark, lines } = markIn(join(dir, 'missing-parent-is-a-file'), () => now);
  writeFileSync(join(dir, 'missing-parent-is-a-file'), 'in the way');
  for (let i = 0; i < 3; i++) {
    now += MARK_WRITE_EVERY_MS;
    mark.advance(now);
  }
  t.equal(mark.current(), now);
  t.equal(lines.filter((l) => l.event === 'catchup.mark_write_failed').length, 1, 'warned once');
  t.notOk(existsSync(join(dir, MARK_FILE)));
});

t.test('without a state directory the mark lives in memory only', async (t) => {
  const { logger } = captureLog();
  const mark = new HeardMark({ log: logger, now: () => NOW });
  t.equal(mark.previous, undefined);
  mark.advance(NOW);
  t.equal(mark.current(), NOW);
});
