import type { Cluster } from '../cluster/cluster.js';
import type { Supervisor, SupervisorOutcome } from '../connection/supervisor.js';
import type { Exposed } from '../control/expose.js';
import type { Database } from '../database/database.js';
import type { DaemonLog } from '../log.js';
import type { Storage } from '../storage/index.js';
import type { Notifier } from '../systemd/notifier.js';
import { errorText } from '../util/error-text.js';

// A bad configuration exits with EXIT_CONFIG (78, src/config.ts) before any of this runs.
export const EXIT_AUTH = 77; // EX_NOPERM: Webex rejected the token; restarting will not help
export const EXIT_RESTART = 75; // EX_TEMPFAIL: asked to restart (canary healing); Restart=on-failure brings it back

export interface ShutdownDeps {
  notifier: Notifier;
  /** Closed last, after the exit line. */
  ownLog: DaemonLog;
  startedAt: number;
  supervisor: Supervisor;
  cluster?: Cluster;
  storage: Storage;
  stopPruning: () => void;
  database?: Database;
}

/** How the daemon ends: who is told first, what closes in which order, and the exit code. */
export class Shutdown {
  private restartRequested = false;

  constructor(private readonly d: ShutdownDeps) {}

  /** STOPPING=1 first; the cluster stops sweeping; the supervisor closes the sockets and drains. */
  stop(reason: string): void {
    this.d.notifier.stopping();
    this.d.cluster?.stop();
    this.d.supervisor.stop(reason);
  }

  /** Stops and exits non-zero: systemd's Restart=on-failure starts a fresh process. */
  restart(reason: string): void {
    this.restartRequested = true;
    this.stop(reason);
  }

  /** Runs the supervisor until it stops or fails, then closes the rest in order; resolves with the exit code. */
  async runToExit(exposed: Promise<Exposed>): Promise<number> {
    const { logger } = this.d.ownLog;
    const survive = rebuildOnUnhandledRejection(this.d);
    const outcome = await this.d.supervisor.run();
    survive.end();
    await this.d.cluster?.close();
    this.d.stopPruning();
    await this.d.storage.close();
    await this.d.database?.close();
    await (await exposed).close();
    const code = exitCode(outcome, this.restartRequested);
    if (outcome.kind === 'failed') logger.error({ event: 'daemon.failed', reason: outcome.reason, exitCode: code });
    logger.info({ event: 'daemon.exit', exitCode: code, uptimeMs: Date.now() - this.d.startedAt });
    await this.d.ownLog.close();
    return code;
  }
}

function exitCode(outcome: SupervisorOutcome, restartRequested: boolean): number {
  if (outcome.kind === 'failed') return EXIT_AUTH;
  return restartRequested ? EXIT_RESTART : 0;
}

/** Node 20 exits on unhandled rejections; the SDK produces some from its own timers. Rebuild it rather than die. */
function rebuildOnUnhandledRejection(d: Pick<ShutdownDeps, 'ownLog' | 'supervisor'>): { end(): void } {
  const onRejection = (reason: unknown) => {
    d.ownLog.logger.warn({ event: 'process.unhandled_rejection', err: errorText(reason) });
    d.supervisor.sdkFault(`unhandled rejection: ${errorText(reason)}`);
  };
  process.on('unhandledRejection', onRejection);
  return { end: () => process.off('unhandledRejection', onRejection) };
}
