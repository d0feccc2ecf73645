/**
 * One claim this instance holds while its handler runs:
 *
 *   held ── renewal or confirmation finds it taken over or done ──> lost (every later reply refused)
 *   held ── first reply: the claim, still ours, is marked answered ──> answered (later replies free)
 *   held | answered ── handler finished ──> released
 *
 * The lease is renewed every renewEveryMs while the handler runs. Before the first reply, confirm()
 * marks the claim answered in the database, in the one query that also checks it is still ours: an
 * instance that stalled past its lease never answers what another took over, and one that dies after
 * answering is never answered for again. With the database away, a lease confirmed less than
 * (lease - margin) ago by the local monotonic clock is still ours (nobody can have taken it): the
 * reply goes out and the cluster settles the id later; an older one only on the preferred instance.
 */
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from '../database/database.js';
import { errorText } from '../util/error-text.js';
import type { ClaimsTable } from './claims.js';

export type HeldState = 'held' | 'answered' | 'lost' | 'released';

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
  private answering?: Promise<void>;
  private told = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly id: string,
    private readonly deps: HeldClaimDeps,
    claimedAt: number,
  ) {
    this.confirmedAt = claimedAt;
    this.timer = setInterval(() => {
      if (this.state !== 'held' || this.answering) return;
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

  /** Marked answered in the database: nothing is left to settle. */
  get isAnswered(): boolean {
    return this.state === 'answered';
  }

  /** Resolves when a reply may go out; throws ClaimFencedError when it must not. */
  async confirm(): Promise<void> {
    if (this.state === 'answered') return;
    if (this.state === 'lost') throw this.fenced('taken over by another instance');
    // Replies sent at once share the one marking query.
    this.answering ??= this.markAnswered().finally(() => (this.answering = undefined));
    return this.answering;
  }

  private async markAnswered(): Promise<void> {
    const fresh = this.deps.monotonic() - this.confirmedAt < this.deps.leaseMs - this.deps.fenceMarginMs;
    let mine: boolean;
    try {
      mine = await this.deps.claims.markAnswered(this.id);
    } catch (err) {
      if (err instanceof DatabaseUnavailableError && (fresh || this.deps.answersAlone())) return;
      throw this.fenced(`cannot confirm: ${errorText(err)}`);
    }
    if (!mine) throw this.fenced('taken over by another instance');
    if (this.state === 'held') this.state = 'answered';
    clearInterval(this.timer);
  }

  release(): void {
    clearInterval(this.timer);
    if (this.state === 'held' || this.state === 'answered') this.state = 'released';
  }

  /** One renewal; true while the claim is still ours. A database error leaves the state as it was. */
  private async renew(): Promise<boolean> {
    const sentAt = this.deps.monotonic();
    const mine = await this.deps.claims.renew(this.id, this.deps.leaseMs);
    if (mine) this.confirmedAt = Math.max(this.confirmedAt, sentAt);
    else if (this.state === 'held' && !this.answering) this.state = 'lost'; // not ours; or done by our own mark just now
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
