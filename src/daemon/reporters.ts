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

/** The supervisor reports progress every tick; systemd wants WATCHDOG=1 every half WatchdogSec. */
export function watchdogPinger(notifier: Notifier, stats: DaemonStats): () => void {
  let lastPing = 0;
  return () => {
    const now = Date.now();
    if (notifier.watchdogIntervalMs > 0 && now - lastPing >= notifier.watchdogIntervalMs) {
      lastPing = now;
      notifier.watchdog();
      stats.watchdogPing();
    }
  };
}
