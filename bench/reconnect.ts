/**
 * Reconnect benchmark (issue 4): N graceful reconnects under a steady message load, measured for
 *   A. toodles: the real daemon (startDaemon, make-before-break supervisor, de-duplication), and
 *   B. the baseline: what the old bot did, break-then-make (close the socket, then open the next one)
 *      on the same SdkWebexLink, same Dispatcher and builtin commands, no de-duplication.
 * Before that, each bot is started cold a few times (issue 20): time to its first pong and RSS once
 * connected, A against B as ratios (start.ts).
 *
 *   npm run bench:reconnect                            # 5 cold starts and 200 reconnects per strategy
 *   npm run bench:reconnect -- --reconnects 1000       # the target
 *   npm run bench:reconnect -- --starts 10 --reconnects 0    # only the cold starts
 *   options: --reconnects N  --rate MSGS_PER_S  --interval-ms MS  --drain-ms MS  --settle-ms MS
 *            --quiet-ms MS  --warmup N  --starts N  --only A|B  --no-gc    (env: BENCH_RECONNECTS, BENCH_RATE, ...)
 *
 * Layout (bench/reconnect/): this process hosts the simulator (a fresh one per strategy) and the
 * message load, and counts replies (run.ts); each bot is a program of its own in a child process
 * (toodles-bot.ts, naive-bot.ts, sharing bot-child.ts), so that its RSS is the bot's alone. Children
 * run with --expose-gc unless --no-gc. BENCH_HEAP_DIR=dir makes each bot write a heap snapshot at
 * start and at N (to diagnose growth). The figures are printed by report.ts.
 *
 * A benchmark, not a test: it prints figures and exits 0 unless the run itself broke.
 */
import { parseOptions } from './reconnect/options.js';
import type { Strategy } from './reconnect/protocol.js';
import { formatReport, formatStarts, type Result } from './reconnect/report.js';
import { runStrategy } from './reconnect/run.js';
import { coldStarts } from './reconnect/start.js';

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const strategies: Strategy[] = o.only ? [o.only] : ['A', 'B'];
  const starts = await coldStarts(strategies, o);
  const results: Result[] = [];
  if (o.reconnects > 0) for (const s of strategies) results.push(await runStrategy(s, o));
  if (starts.length) process.stdout.write(formatStarts(starts, o));
  if (results.length) process.stdout.write(formatReport(results, o));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:reconnect broke: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
