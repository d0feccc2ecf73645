import type { SupervisorStatus } from '../connection/supervisor.js';
import type { Logger } from '../log.js';
import type { Notifier } from '../systemd/notifier.js';
import { saveFailureNote, statusLine } from './status-line.js';

export interface AnnouncerDeps {
  notifier: Notifier;
  log: Logger;
  startedAt: number;
  stateDir?: string;
  /** The proxy's recent failure, which says more than the SDK's "Failed to connect to socket". */
  proxyTrouble: () => string | undefined;
}

/** Tells systemd how the bot is: STATUS= on every change, READY=1 (and daemon.ready) the first time online. */
export class SystemdAnnouncer {
  private last?: { status: SupervisorStatus; detail: string };
  private everOnline = false;
  private saveFailure?: string;

  constructor(private readonly d: AnnouncerDeps) {}

  /** The supervisor's onState. */
  stateChanged(status: SupervisorStatus, detail: string): void {
    this.last = { status, detail };
    this.announce();
    if (status.state === 'online' && !this.everOnline) {
      this.everOnline = true;
      this.d.notifier.ready();
      this.d.log.info({ event: 'daemon.ready', durationMs: Date.now() - this.d.startedAt });
    }
  }

  /**
   * A reload begins (RELOADING=1) and ends (READY=1). Only once started: before, READY=1 would tell
   * systemd the start is over while the bot is not yet connected.
   */
  reloading(): void {
    if (this.everOnline) this.d.notifier.reloading();
  }

  reloaded(): void {
    if (this.everOnline) this.d.notifier.ready();
  }

  /** The de-duplication record cannot be saved (the error), or can again (undefined). */
  saveFailing(err: string | undefined): void {
    if (err === this.saveFailure) return;
    this.saveFailure = err;
    this.announce();
  }

  private announce(): void {
    if (!this.last) return;
    const note = this.saveFailure ? saveFailureNote(this.d.stateDir, this.saveFailure) : '';
    this.d.notifier.status(statusLine(this.last.status, this.last.detail, this.everOnline, this.d.proxyTrouble()) + note);
  }
}
