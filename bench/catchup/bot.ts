/**
 * One bot for a bench:catchup scenario: a simulator of its own and the daemon as a process (as
 * systemd runs it, `node dist/src/cli.js run`, configured by its environment), with catch-up on or
 * off (TOODLES_CATCHUP_MAX_AGE_S=0). Counts the listing calls the simulator sees and reads the
 * bot's answers on the simulator's clock.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MARK_FILE } from '../../src/catchup/mark.js';
import { startSimulator, type NewSimMessage, type SimMessage, type Simulator } from '../../src/simulator/index.js';
import { daemonCluster, type DaemonCluster } from '../../test/kit/daemon-cluster.js';
import type { LogLine } from '../../test/kit/spawn-daemon.js';
import { eventually, sleep } from '../../test/kit/wait.js';

/** A catch-up's listing calls: the bot's spaces, or a space's messages (not one message by id). */
const LISTING = /^\/v1\/(rooms\/?|messages)(\?|$)/;
const NAME = 'bot';

/** A log line's time in ms since the epoch (stdout carries it as an ISO string). */
export function timeOf(line: LogLine | undefined): number {
  return typeof line?.time === 'number' ? line.time : Date.parse(String(line?.time));
}

/** Polls `cond` until it holds or `timeoutMs` passes; says which. Reading a daemon's logs costs a parse, hence the pace. */
export async function until(cond: () => boolean, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
}

export class BenchBot {
  private constructor(
    readonly sim: Simulator,
    readonly catchUp: boolean,
    private readonly daemon: DaemonCluster,
    private readonly listings: { count: number },
  ) {}

  static async create(catchUp: boolean, env: Record<string, string> = {}): Promise<BenchBot> {
    const listings = { count: 0 };
    const sim = await startSimulator({
      port: 0,
      logTraffic: (l) => {
        if (l.kind === 'http' && l.method === 'GET' && LISTING.test(String(l.path))) listings.count += 1;
      },
    });
    const daemon = daemonCluster({
      sim,
      names: [NAME],
      logLevel: 'info',
      env: { ...(catchUp ? {} : { TOODLES_CATCHUP_MAX_AGE_S: '0' }), ...env },
    });
    return new BenchBot(sim, catchUp, daemon, listings);
  }

  /** Starts the daemon (again, on the same state directory) and resolves once it is online, with when it said READY. */
  async start(): Promise<number> {
    await this.daemon.start(NAME);
    return timeOf(this.logs().find((l) => l.event === 'daemon.ready'));
  }

  /** No shutdown at all: what systemd's restart after a crash or a watchdog kill starts from. */
  async kill9(): Promise<void> {
    await this.daemon.kill9(NAME);
  }

  /** A clean stop (SIGTERM), as `systemctl restart` or an upgrade does. */
  async stop(): Promise<void> {
    await this.daemon.member(NAME).process.signal('SIGTERM');
  }

  /** Once the running daemon has written its heard-through mark: a restart from here catches up. */
  async markWritten(): Promise<void> {
    await eventually('the heard-through mark', () => existsSync(join(this.daemon.member(NAME).stateDir, MARK_FILE)), 15_000);
  }

  /** Stands for a longer time down: the mark says the bot last heard `agoMs` ago. */
  markHeard(agoMs: number): void {
    writeFileSync(join(this.daemon.member(NAME).stateDir, MARK_FILE), JSON.stringify({ heardThroughMs: Date.now() - agoMs }));
  }

  /** The current process's log lines. */
  logs(): LogLine[] {
    return this.daemon.member(NAME).process.logs();
  }

  events(event: string, since = 0): LogLine[] {
    return this.logs().filter((l) => l.event === event && timeOf(l) >= since);
  }

  listingCalls(): number {
    return this.listings.count;
  }

  post(m: NewSimMessage): SimMessage {
    return this.sim.postMessage(m);
  }

  /** When the bot's answers to `m` were posted (its replies in the message's thread). */
  answers(m: SimMessage): number[] {
    return this.sim
      .repliesTo(m.id)
      .filter((r) => r.personId === this.sim.bot.id)
      .map((r) => Date.parse(r.created));
  }

  async close(): Promise<void> {
    await this.daemon.close();
    await this.sim.stop();
  }
}
