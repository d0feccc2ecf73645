/**
 * The bench's side of one bot program: forks it (with --expose-gc unless told not to) and keeps what
 * it reports. Its reconnects count until it has measured N; it goes on reconnecting after that.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bounded, sleep } from '../../src/util/bounded.js';
import { STOP, type ChildArgs, type ChildMessage, type Memory, type Strategy } from './protocol.js';

const PROGRAMS: Record<Strategy, string> = { A: './toodles-bot.js', B: './naive-bot.js' };
const STOP_TIMEOUT_MS = 30_000;

export type Measured = Extract<ChildMessage, { type: 'measured' }>;

export class BotProcess {
  readonly deaf: number[] = [];
  readonly durations: number[] = [];
  /** When it was forked and when it said it was connected (ms since epoch, this process's clock). */
  readonly forkedAt = Date.now();
  onlineAt?: number;
  /** CPU time it had used by then: on a busy machine a steadier figure than the wall time. */
  cpuToOnlineMs?: number;
  /** The reading taken once connected; the bot is ready for load once it is here. */
  atOnline?: Memory;
  measured?: Measured;
  lastReconnectAt = Date.now();
  private failure?: string;
  private hasExited = false;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  readonly strategy: Strategy;

  constructor(
    /** Starts each line the bench prints about this bot. */
    readonly tag: string,
    args: ChildArgs,
    gc: boolean,
    /** Called with each reconnect counted: its number, the bot's RSS then, the deaf times so far. */
    onReconnect: (n: number, rss: number, deaf: readonly number[]) => void,
  ) {
    this.strategy = args.strategy;
    const execArgv = [...process.execArgv.filter((a) => a !== '--expose-gc'), ...(gc ? ['--expose-gc'] : [])];
    const program = fileURLToPath(new URL(PROGRAMS[args.strategy], import.meta.url));
    this.child = fork(program, [JSON.stringify(args)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => (this.hasExited = true));
    this.child.on('message', (m: ChildMessage) => {
      switch (m.type) {
        case 'online':
          this.onlineAt = Date.now();
          this.cpuToOnlineMs = m.cpuMs;
          break;
        case 'ready':
          this.atOnline = m.mem;
          break;
        case 'reconnect':
          this.lastReconnectAt = Date.now();
          if (this.measured) break; // the settle period keeps reconnecting; figures stop at N
          this.deaf.push(m.deafMs);
          this.durations.push(m.durationMs);
          onReconnect(m.n, m.rss, this.deaf);
          break;
        case 'measured':
          this.measured = m;
          break;
        case 'failed':
          this.failure = m.error;
          break;
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Waits for `cond`, failing at once if the bot fails or exits meanwhile. */
  async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.failure) throw new Error(`${this.tag} bot failed: ${this.failure}`);
      if (this.hasExited) throw new Error(`${this.tag} bot process exited while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`${this.tag} timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  /** Asks the bot to stop; it must exit 0 within 30 s. */
  async stop(): Promise<void> {
    this.child.send(STOP);
    const code = await bounded(`${this.tag} bot stop`, this.exited, { timeoutMs: STOP_TIMEOUT_MS }).catch(() => {
      this.child.kill('SIGKILL');
      throw new Error(`${this.tag} bot did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
    });
    if (code !== 0) throw new Error(`${this.tag} bot exited with code ${code}`);
  }

  /** For a run that broke: the bot goes at once if it is still there. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
