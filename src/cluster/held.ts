/**
 * One claim this instance holds while its handler runs:
 *
 *   held ── renewal or confirmation finds it taken over or done ──> lost (every later reply refused)
 *   held ── handler finished ──> released
 *
 * The lease is renewed every renewEveryMs while the handler runs. Before a reply, confirm() is free
 * while the lease was last confirmed less than (lease - margin) ago by the local monotonic clock;
 * older than that (the process was stalled, or the database slow), the claim is re-confirmed in the
 * database first, so an instance that stalled past its lease never answers what another took over.
 */
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from '../database/database.js';
import { errorText } from '../util/error-text.js';
import type { ClaimsTable } from './claims.js';

export type HeldState = 'held' | 'lost' | 'released';

export class ClaimFencedError extends Error {
  constructor(readonly id: string) {
    super(`claim on ${id} no longer held by this instance: reply withheld`);
    this.name = 'ClaimFencedError';
  }
}

export interface HeldClaimDeps {
  claims: ClaimsTable;
  log: Logger;
  leaseMs: number;
  renewEveryMs: number;
  fenceMarginMs: number;
  /** The preferred instance answers when the database cannot say (its rule while the database is away). */
  answersAlone: () => boolean;
  monotonic: () => number;
  onFenced: () => void;
}

export class HeldClaim {
  private state: HeldState = 'held';
  /** When (locally, monotonic) the database last confirmed the lease: the time the query was sent. */
  private confirmedAt: number;
  private renewing?: Promise<unknown>;
  private told = false;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly id: string, private readonly deps: HeldClaimDeps, claimedAt: number) {
    this.confirmedAt = claimedAt;
    this.timer = setInterval(() => {
      // A failed renewal changes nothing: the next one, or confirm() before a reply, decides.
      this.renewing ??= this.renew()
        .catch(() => false)
        .finally(() => (this.renewing = undefined));
    }, deps.renewEveryMs);
    this.timer.unref();
  }

  get isLost(): boolean {
    return this.state === 'lost';
  }

  /** Resolves when a reply may go out; throws ClaimFencedError when it must not. */
  async confirm(): Promise<void> {
    if (this.state === 'lost') throw this.fenced('taken over by another instance');
    if (this.deps.monotonic() - this.confirmedAt < this.deps.leaseMs - this.deps.fenceMarginMs) return;
    try {
      if (await this.renew()) return;
    } catch (err) {
      if (err instanceof DatabaseUnavailableError && this.deps.answersAlone()) return;
      throw this.fenced(`cannot confirm: ${errorText(err)}`);
    }
    throw this.fenced('taken over by another instance');
  }

  release(): void {
    clearInterval(this.timer);
    if (this.state === 'held') this.state = 'released';
  }

  /** One renewal; true while the claim is still ours. A database error leaves the state as it was. */
  private async renew(): Promise<boolean> {
    const sentAt = this.deps.monotonic();
    const mine = await this.deps.claims.renew(this.id, this.deps.leaseMs);
    if (mine) this.confirmedAt = Math.max(this.confirmedAt, sentAt);
    else if (this.state === 'held') this.state = 'lost';
    return mine;
  }

  /** Refuses a reply; logged and counted once per claim, however many replies the handler tries. */
  private fenced(reason: string): ClaimFencedError {
    this.state = 'lost';
    if (!this.told) {
      this.told = true;
      this.deps.log.warn({ event: 'claim.fenced', id: this.id, reason });
      this.deps.onFenced();
    }
    return new ClaimFencedError(this.id);
  }
}
