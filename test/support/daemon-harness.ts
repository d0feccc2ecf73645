import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { startDaemon, type DaemonTuning, type RunningDaemon } from '../../src/daemon.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { Notifier } from '../../src/systemd/notifier.js';

export interface LogLine {
  event?: string;
  [key: string]: unknown;
}

export interface Harness {
  sim: Simulator;
  daemon: RunningDaemon;
  config: Config;
  logs: LogLine[];
  notices: string[];
  /** Resolves once a log line with this event (and matching fields) has been written. */
  waitForLog(event: string, match?: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(): Promise<number>;
}

/** Fast timings for tests: seconds instead of minutes, same state machine. */
export const FAST: DaemonTuning = {
  timings: { startTimeoutMs: 5_000, connectTimeoutMs: 3_000, closeTimeoutMs: 1_000, livenessTimeoutMs: 2_500, tickMs: 100, watchdogGraceMs: 3_000 },
  mercury: { pingInterval: 800, pongTimeout: 700 },
  handlerTimeoutMs: 2_000,
};

/** The simulator and the daemon, in this process, talking over real HTTP and websockets on loopback. */
export async function startHarness(
  opts: { env?: Record<string, string>; tuning?: DaemonTuning; sim?: Simulator } = {},
): Promise<Harness> {
  const sim = opts.sim ?? (await startSimulator({ port: 0 }));
  const config = loadConfig({
    WEBEX_BOT_TOKEN: sim.botToken,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_RECONNECT_INTERVAL_S: '600',
    TOODLES_DRAIN_TIMEOUT_S: '2',
    ...opts.env,
  });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      for (const w of waiters) w();
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const notices: string[] = [];
  const notifier: Notifier = {
    ready: () => notices.push('READY=1'),
    status: (text) => notices.push(`STATUS=${text}`),
    watchdog: () => notices.push('WATCHDOG=1'),
    stopping: () => notices.push('STOPPING=1'),
    watchdogIntervalMs: 0,
  };
  const base = opts.tuning ?? FAST;
  const daemon = startDaemon(config, { ...base, notifier, logger });
  const waitForLog = (event: string, match: (l: LogLine) => boolean = () => true, timeoutMs = 10_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find((l) => l.event === event && match(l));
        if (!found) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${event} log line within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  await waitForLog('daemon.ready');
  return {
    sim,
    daemon,
    config,
    logs,
    notices,
    waitForLog,
    async stop() {
      daemon.stop('test over');
      const code = await daemon.done;
      if (!opts.sim) await sim.stop();
      return code;
    },
  };
}
