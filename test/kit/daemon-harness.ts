import { loadConfig, type Config } from '../../src/config.js';
import { Pacer } from '../../src/connection/recovery.js';
import { startDaemon, type DaemonTuning, type RunningDaemon } from '../../src/daemon/daemon.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { Notifier } from '../../src/systemd/notifier.js';
import { captureLog, type LogLine } from './log-capture.js';

export type { LogLine };

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
  timings: {
    startTimeoutMs: 15_000,
    connectTimeoutMs: 3_000,
    closeTimeoutMs: 1_000,
    livenessTimeoutMs: 2_500,
    tickMs: 100,
    watchdogGraceMs: 3_000,
  },
  mercury: { pingInterval: 800, pongTimeout: 700 },
  handlerTimeoutMs: 10_000,
  // Same shape as production (paced, first retry at once), at a faster pace.
  retry: () => new Pacer({ spacingMs: 1_000, jitterMs: 200, stableResetMs: 2_000 }),
};

/** The simulator and the daemon, in this process, talking over real HTTP and websockets on loopback. */
export async function startHarness(
  opts: { env?: Record<string, string>; tuning?: DaemonTuning; sim?: Simulator; readyTimeoutMs?: number } = {},
): Promise<Harness> {
  const sim = opts.sim ?? (await startSimulator({ port: 0 }));
  const env = {
    WEBEX_BOT_TOKEN: sim.botToken,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_RECONNECT_INTERVAL_S: '600',
    TOODLES_DRAIN_TIMEOUT_S: '2',
    ...opts.env,
  };
  const config = loadConfig(env);
  const { logger, lines: logs, waitFor: waitForLog } = captureLog();
  const notices: string[] = [];
  const notifier: Notifier = {
    ready: () => notices.push('READY=1'),
    status: (text) => notices.push(`STATUS=${text}`),
    watchdog: () => notices.push('WATCHDOG=1'),
    stopping: () => notices.push('STOPPING=1'),
    reloading: () => notices.push('RELOADING=1'),
    watchdogIntervalMs: 0,
  };
  const base = opts.tuning ?? FAST;
  // The environment too: a reload reads the settings file (TOODLES_ENV_FILE) over it.
  const daemon = await startDaemon(config, { ...base, notifier, logger, env });
  await waitForLog('daemon.ready', undefined, opts.readyTimeoutMs);
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
