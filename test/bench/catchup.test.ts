/**
 * bench:catchup kept from rotting: its arguments, and its quick run printing every figure of every
 * scenario with a verdict where it has a target. The figures' values are the benchmark's to report
 * (on a busy machine they may MISS); test/catchup/ asserts the behaviour.
 */
import t from 'tap';
import { benchArgs, runCatchUpBench, SCENARIOS } from '../../bench/catchup.js';
import { FULL, QUICK } from '../../bench/catchup/scenarios.js';
t.setTimeout(480_000);

t.test('arguments: the full run by default, --quick, --only', async (t) => {
  t.same(benchArgs([]), { options: FULL, quick: false, only: Object.keys(SCENARIOS) });
  t.same(FULL, { downMs: 30_000, outageMs: 60_000, reconnects: 200 }, "the issue's figures");
  t.match(benchArgs(['--quick', '--only', 'kill,first']), { options: QUICK, quick: true, only: ['kill', 'first'] });
  t.throws(
    () => benchArgs(['--only', 'kill,moon']),
    /--only: no scenario moon \(there are kill, silent, graceful, spaces, missed, first\)/,
  );
});

/** Every figure each scenario prints, in order. */
const FIGURES: Record<keyof typeof SCENARIOS, string[]> = {
  kill: [
    'answered exactly once',
    'answered twice or more',
    'unmentioned answered',
    'first answer after READY',
    'last answer after READY',
    'down (the kill to READY)',
    'listing requests after the restart',
  ],
  silent: [
    'answered exactly once',
    'last answer after the bot is back',
    'first answer after the bot is back',
    'back (online) after the outage ended',
    'silence noticed after',
  ],
  graceful: ['graceful reconnects', 'listing calls', 'catch-up rounds', 'pings answered exactly once'],
  spaces: ['requests for the round', 'messages in the 5 active spaces answered once', 'messages in idle spaces answered', 'the round took'],
  missed: [
    '1:1 space: answered exactly once',
    'group space: answered exactly once',
    'answered twice or more',
    'listing requests',
    'last answer after READY',
  ],
  first: ['history answered', 'listing calls', 'a live message answered'],
};

t.test('the quick run prints every figure of every scenario, judged ones with PASS or MISS', async (t) => {
  const printed: string[] = [];
  const args = benchArgs(['--quick']);
  const results = await runCatchUpBench(args, (line) => printed.push(line));
  t.comment(printed.join('\n'));
  t.equal(results.length, args.only.length, 'one result per scenario');
  for (const [i, name] of args.only.entries()) {
    const r = results[i];
    if (!r) {
      t.fail(`${name}: no result`);
      continue;
    }
    t.same(
      r.rows.map((x) => x.figure),
      FIGURES[name],
      `${name}: its figures`,
    );
    // Its table: the title, then rows up to the blank line before the next.
    const after = printed.slice(printed.indexOf(r.title) + 1);
    const lines = after.slice(0, after.includes('') ? after.indexOf('') : after.length);
    for (const row of r.rows) {
      const line = lines.find((l) => l.startsWith(`  ${row.figure} `));
      t.ok(line, `${name}: "${row.figure}" printed`);
      t.match(line, row.target === undefined ? /\S$/ : / (PASS|MISS) /, `${name}: "${row.figure}" ${row.target ? 'judged' : 'shown'}`);
    }
  }
});
