/**
 * bench:reconnect's cold starts: each bot program started N times, in turns (A B, B A, ...) so that
 * both meet the machine alike, each against a fresh simulator and with a fresh state directory. Timed
 * on this process's clock from the fork to connected, then one ping to its pong on the simulator's
 * clock; the ping goes once the bot has taken its memory reading, so that reading's gc is not counted.
 */
import { startSimulator } from '../../src/simulator/index.js';
import { PingTraffic } from '../../test/kit/ping-traffic.js';
import { BotProcess } from './bot-process.js';
import type { Options } from './options.js';
import type { ChildArgs, Strategy } from './protocol.js';

/** Long enough that no reconnect happens while a start is measured. */
const NO_RECONNECT_MS = 600_000;
const START_TIMEOUT_MS = 60_000;

/** One cold start of one bot program. */
export interface ColdStart {
  strategy: Strategy;
  /** Fork to the bot saying it is connected. */
  onlineMs: number;
  /** CPU time (user + system) the bot had used by then. */
  cpuToOnlineMs: number;
  /** Its first ping, posted once connected, to the pong. */
  firstAnswerMs: number;
  /** RSS once connected (after a gc, like every reading of the bench). */
  rss: number;
}

export async function coldStarts(strategies: Strategy[], o: Options): Promise<ColdStart[]> {
  const out: ColdStart[] = [];
  for (let i = 0; i < o.starts; i++) {
    const order = i % 2 === 0 ? strategies : [...strategies].reverse();
    for (const s of order) {
      const run = await coldStart(s, o);
      process.stderr.write(
        `[${s}] cold start ${i + 1}/${o.starts}: online in ${run.onlineMs} ms (${run.cpuToOnlineMs} ms CPU), first pong ${run.firstAnswerMs} ms later, ` +
          `rss ${(run.rss / 1024 / 1024).toFixed(1)} MB\n`,
      );
      out.push(run);
    }
  }
  return out;
}

async function coldStart(strategy: Strategy, o: Options): Promise<ColdStart> {
  const sim = await startSimulator({ port: 0 });
  const args: ChildArgs = {
    strategy,
    token: sim.botToken,
    u2cUrl: sim.u2cUrl,
    hydraUrl: sim.hydraUrl,
    reconnects: Number.MAX_SAFE_INTEGER,
    intervalMs: NO_RECONNECT_MS,
    drainMs: o.drainMs,
    warmup: 0,
  };
  let bot: BotProcess | undefined;
  try {
    bot = new BotProcess(`[${strategy}]`, args, o.gc, () => undefined);
    const b = bot;
    await b.until(() => b.atOnline !== undefined, START_TIMEOUT_MS, 'the bot to come online');
    const { onlineAt, cpuToOnlineMs, atOnline } = b;
    // 'online' is sent before the reading that 'ready' carries
    if (onlineAt === undefined || cpuToOnlineMs === undefined || atOnline === undefined)
      throw new Error(`[${strategy}] ready before online`);
    const ping = new PingTraffic(sim, 'starter@example.com');
    const asked = ping.send();
    await ping.allAnswered(START_TIMEOUT_MS);
    const pongAt = ping.answers().get(asked.id)?.[0];
    if (pongAt === undefined) throw new Error(`[${strategy}] the first ping was not answered`);
    const run = { strategy, onlineMs: onlineAt - b.forkedAt, cpuToOnlineMs, firstAnswerMs: pongAt - asked.at, rss: atOnline.rss };
    await b.stop();
    return run;
  } finally {
    bot?.kill();
    await sim.stop();
  }
}
