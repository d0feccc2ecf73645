/**
 * One strategy's run: a fresh simulator, the bot program in a child process of its own (so that its
 * RSS is the bot's alone: the simulator keeps every message and socket it ever saw), a steady
 * message load until the bot has reconnected N times, a settle period, and the count of replies.
 */
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { sleep } from '../../src/util/bounded.js';
import { PingTraffic } from '../../test/kit/ping-traffic.js';
import { BotProcess } from './bot-process.js';
import type { Options } from './options.js';
import type { ChildArgs, Strategy } from './protocol.js';
import { MB, percentile, type Result } from './report.js';

const PROGRESS_EVERY = 50;
/** A run in which reconnects stop for this long is broken, not slow. */
const STALL_MS = 60_000;

/** Stretches of time in which the simulator had no open socket for the bot's device(s). */
function socketGaps(sim: Simulator, from: number, to: number) {
  const spans = sim
    .connections()
    .map((c) => [c.openedAt, c.closedAt ?? to] as const)
    .filter(([a, b]) => b > from && a < to)
    .sort((x, y) => x[0] - y[0]);
  let cursor = from;
  const gaps: number[] = [];
  for (const [a, b] of spans) {
    if (a > cursor) gaps.push(a - cursor);
    cursor = Math.max(cursor, b);
  }
  if (cursor < to) gaps.push(to - cursor);
  return { count: gaps.length, totalMs: gaps.reduce((s, g) => s + g, 0), maxMs: gaps.length ? Math.max(...gaps) : 0 };
}

export async function runStrategy(strategy: Strategy, o: Options): Promise<Result> {
  const sim = await startSimulator({ port: 0 });
  const tag = `[${strategy}]`;
  const load = new PingTraffic(sim, 'loadgen@example.com');
  const answered = () => {
    const t = load.tally();
    return t.once + t.more;
  };
  const progress = (n: number, rss: number, deaf: readonly number[]) => {
    if (n % PROGRESS_EVERY !== 0) return;
    const sorted = [...deaf].sort((a, b) => a - b);
    process.stderr.write(
      `${tag} ${n}/${o.reconnects} reconnects  deaf p50 ${percentile(sorted, 50)} ms max ${sorted.at(-1)} ms  ` +
        `msgs sent ${load.asked.length} answered ${answered()}  bot rss ${(rss / MB).toFixed(1)} MB\n`,
    );
  };
  const args: ChildArgs = {
    strategy,
    token: sim.botToken,
    u2cUrl: sim.u2cUrl,
    hydraUrl: sim.hydraUrl,
    reconnects: o.reconnects,
    intervalMs: o.intervalMs,
    drainMs: o.drainMs,
    warmup: o.warmup,
  };
  let bot: BotProcess | undefined;
  try {
    bot = new BotProcess(tag, args, o.gc, progress);
    return await measure(sim, bot, load, o);
  } finally {
    load.stop();
    bot?.kill();
    await sim.stop();
  }
}

async function measure(sim: Simulator, bot: BotProcess, load: PingTraffic, o: Options): Promise<Result> {
  const tag = bot.tag;
  await bot.until(() => bot.atOnline !== undefined, 60_000, 'the bot to come online');
  process.stderr.write(`${tag} bot online (pid ${bot.pid}), load ${o.rate} msg/s, reconnect every ${o.intervalMs} ms\n`);

  const loadStarted = Date.now();
  bot.lastReconnectAt = loadStarted;
  load.start(o.rate);
  await bot.until(
    () => bot.measured !== undefined || Date.now() - bot.lastReconnectAt > STALL_MS,
    24 * 3600_000,
    `${o.reconnects} reconnects`,
  );
  const measured = bot.measured;
  if (!measured) throw new Error(`${tag} no reconnect for 60 s after ${bot.deaf.length} reconnects`);
  const wallMs = Date.now() - loadStarted;
  load.stop();
  const measuredAt = Date.now();
  const devices = sim.devices().length;
  const socketsOpened = sim.connections().length;
  const socketsOpenAtEnd = sim.connections().filter((x) => x.open).length;
  const simGaps = socketGaps(sim, loadStarted, measuredAt);

  // Settle: the bot keeps running (and reconnecting) until every message is answered or the
  // settle time is up, then a quiet period catches late second answers.
  await load.allAnswered(o.settleMs);
  await sleep(o.quietMs);
  const pendingAtEnd = sim.devices().reduce((n, d) => n + d.pending, 0);
  const tally = load.tally();
  const extraReplies = [...load.answers().values()].reduce((s, answers) => s + Math.max(0, answers.length - 1), 0);

  await bot.stop();
  process.stderr.write(`${tag} done\n`);

  return {
    strategy: bot.strategy,
    reconnects: bot.deaf.length,
    deaf: bot.deaf,
    durations: bot.durations,
    sent: tally.sent,
    answered: tally.once + tally.more,
    lost: tally.never,
    duplicated: tally.more,
    extraReplies,
    devices,
    socketsOpened,
    socketsOpenAtEnd,
    simGaps,
    start: measured.start,
    warm: measured.warm,
    end: measured.end,
    gc: measured.gc,
    wallMs,
    warnings: measured.warnings,
    firstWarnings: measured.firstWarnings,
    duplicatesDropped: measured.duplicatesDropped,
    pendingAtEnd,
  };
}
