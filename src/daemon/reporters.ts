import type { PersistenceReport } from '../connection/seen-activities.js';
import type { Logger } from '../log.js';
import type { DaemonStats } from '../stats/stats.js';
import type { Notifier } from '../systemd/notifier.js';
import type { SystemdAnnouncer } from './announcer.js';

const PROXY_ERROR_FRESH_MS = 30_000;

/** Remembers the proxy's last failure, which the SDK reduces to "Failed to connect to socket". */
export function proxyErrorReporter(logger: Logger) {
  let last: { text: string; at: number } | undefined;
  return {
    options: {
      onProxyError: (err: Error) => {
        last = { text: err.message, at: Date.now() };
        logger.warn({ event: 'proxy.error', err: err.message });
      },
    },
    recent: () => (last && Date.now() - last.at < PROXY_ERROR_FRESH_MS ? last.text : undefined),
  };
}

/** Logs the de-duplication record's write failures (already rate-limited) and keeps STATUS= honest about them. */
export function persistenceReporter(logger: Logger, stateDir: string | undefined, announcer: Pick<SystemdAnnouncer, 'saveFailing'>) {
  return (r: PersistenceReport) => {
    if (r.ok) logger.info({ event: 'state.write_recovered', stateDir });
    else logger.warn({ event: 'state.write_failed', stateDir, err: r.err, failures: r.failures });
    announcer.saveFailing(r.ok ? undefined : r.err);
  };
}

/** The supervisor's tick under a watchdog: its usual one, or systemd's ping interval when that is shorter. */
export function watchdogTickMs(usualMs: number, watchdogMs: number): number {
  return watchdogMs > 0 ? Math.min(usualMs, watchdogMs) : usualMs;
}

/**
 * The supervisor reports progress every `tickMs`; systemd wants WATCHDOG=1 every half WatchdogSec
 * (the notifier's interval). A tick pings when waiting for the next one would stretch the gap past
 * that interval, so a tick landing a millisecond early never doubles the gap (up to WatchdogSec).
 */
export function watchdogPinger(notifier: Notifier, stats: DaemonStats, tickMs: number, now: () => number = Date.now): () => void {
  let lastPing = -Infinity;
  return () => {
    const at = now();
    if (notifier.watchdogIntervalMs > 0 && at + tickMs - lastPing > notifier.watchdogIntervalMs) {
      lastPing = at;
      notifier.watchdog();
      stats.watchdogPing();
    }
  };
}
