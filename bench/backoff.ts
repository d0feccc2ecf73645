import type { RetryPolicy } from '../src/connection/recovery.js';

/**
 * Exponential backoff with full jitter: each delay is uniform in [0, min(cap, base * 2^attempt)],
 * so a fleet of restarts never retries in lock-step and the first retry comes within `baseMs`.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Online this long without a failure and the attempt count starts again from zero. */
  stableResetMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000, stableResetMs: 60_000 };

/** The policy toodles had before paced recovery; kept as the baseline bench:recovery compares against. */
export class Backoff implements RetryPolicy {
  private attempt = 0;
  constructor(
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  get attempts(): number {
    return this.attempt;
  }

  nextDelayMs(): number {
    const ceiling = Math.min(this.policy.capMs, this.policy.baseMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.floor(this.random() * ceiling);
  }

  /** Called while online; forgets past failures once the connection has been stable long enough. */
  noteStable(onlineForMs: number): void {
    if (onlineForMs >= this.policy.stableResetMs) this.attempt = 0;
  }
}
