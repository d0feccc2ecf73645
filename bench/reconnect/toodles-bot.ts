/**
 * bench:reconnect's strategy A, a program of its own: the real daemon (startDaemon, the
 * make-before-break supervisor, de-duplication) against the bench's simulator, reconnecting every
 * interval until the bench says stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { runBotChild } from './bot-child.js';

runBotChild(async ({ args, meter, logger, stop }) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'toodles-bench-'));
  try {
    const config = loadConfig({
      WEBEX_BOT_TOKEN: args.token,
      TOODLES_WEBEX_U2C_URL: args.u2cUrl,
      TOODLES_WEBEX_HYDRA_URL: args.hydraUrl,
      TOODLES_RECONNECT_INTERVAL_S: String(args.intervalMs / 1000),
      TOODLES_DRAIN_TIMEOUT_S: String(args.drainMs / 1000),
      TOODLES_STATE_DIR: stateDir,
    });
    let wasReady = false;
    const daemon = await startDaemon(config, {
      logger,
      notifier: {
        ready: () => {
          if (wasReady) return;
          wasReady = true;
          meter.ready();
        },
        status: () => undefined,
        watchdog: () => undefined,
        stopping: () => undefined,
        reloading: () => undefined,
        watchdogIntervalMs: 0,
      },
    });
    let stopping = false;
    const exited = daemon.done.then((code) => {
      if (!stopping) throw new Error(`daemon exited by itself (code ${code})`);
      return code;
    });
    await Promise.race([stop, exited]);
    stopping = true;
    daemon.stop('benchmark over');
    await exited;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});
