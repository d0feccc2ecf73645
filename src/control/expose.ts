/** Starts what operators and the canary talk to: the control socket and, when configured, /healthz + /metrics. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SupervisorStatus } from '../connection/supervisor.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DaemonStats, HealAction } from '../stats/stats.js';
import { errorText } from '../util/error-text.js';
import type { StatusDocument } from './status.js';
import { healFor, type CanaryThresholds } from '../canary/heal.js';
import type { ReloadOutcome } from '../settings/reload.js';

export interface ExposeDeps {
  config: Pick<Config, 'runtimeDir' | 'metricsListen'>;
  log: Logger;
  stats: DaemonStats;
  metrics?: Metrics;
  connection: () => SupervisorStatus;
  livenessMs: number;
  status: () => StatusDocument;
  heard: (activityId: string) => boolean;
  heal: Record<HealAction, (reason: string) => void>;
  /** Read at each canary report: a reload may change them. */
  canaryThresholds: () => CanaryThresholds;
  reload: () => Promise<ReloadOutcome>;
}

export interface Exposed {
  close(): Promise<void>;
}

/**
 * Neither listener is worth the bot: one that cannot start is logged and the bot runs on without it.
 * Each is loaded only when configured.
 */
export async function expose(d: ExposeDeps): Promise<Exposed> {
  const closers: Array<() => Promise<void>> = [];
  const healer = (action: HealAction) => (reason: string) => {
    d.log.warn({ event: 'daemon.heal', action, reason });
    d.stats.heal(action, reason);
    d.heal[action](reason);
  };
  if (d.config.runtimeDir) {
    const { CONTROL_SOCKET, startControlServer } = await import('./server.js');
    const path = join(d.config.runtimeDir, CONTROL_SOCKET);
    try {
      const server = await startControlServer(
        path,
        {
          status: d.status,
          heard: d.heard,
          canary: (report) => {
            const consecutiveFailures = d.stats.canary(report);
            return { consecutiveFailures, heal: report.ok ? undefined : healFor(consecutiveFailures, d.canaryThresholds()) };
          },
          reload: d.reload,
          rebuild: healer('rebuild'),
          restart: healer('restart'),
        },
        d.log,
      );
      closers.push(server.close);
    } catch (err) {
      d.log.error({ event: 'control.failed', path, err: errorText(err) });
    }
  }
  if (d.config.metricsListen && d.metrics) {
    const at = d.config.metricsListen;
    const [{ startMetricsServer }, { health }] = await Promise.all([import('../metrics/server.js'), import('../metrics/health.js')]);
    try {
      const server = await startMetricsServer(at, d.metrics, () => health(d.connection(), Date.now(), d.livenessMs), d.log);
      closers.push(server.close);
    } catch (err) {
      d.log.error({ event: 'metrics.failed', host: at.host, port: at.port, err: errorText(err) });
    }
  }
  return { close: async () => void (await Promise.all(closers.map((c) => c()))) };
}
