import { AbortedError } from '../util/bounded.js';

/**
 * When to try again after a failure. The supervisor asks before every attempt; `hedgeAfterMs` says
 * whether a hanging attempt may get a sibling (undefined: one attempt at a time).
 */
export interface RetryPolicy {
  /** Attempts since the connection was last stable. */
  readonly attempts: number;
  readonly hedgeAfterMs?: number;
  /** How long to wait before the next attempt; the attempt counts as made from then. */
  nextDelayMs(now: number): number;
  /** An attempt no delay was asked for (the very first one) started now. */
  attemptStarted?(now: number): void;
  /** Called while online; a stable connection ends the outage. */
  noteStable(onlineForMs: number): void;
}

export interface PacingPolicy {
  /** Attempts start at least this far apart: never more than one per 2 s while the path is down. */
  spacingMs: number;
  /** Up to this much is added to each spacing, so a fleet of restarts does not retry in lock-step. */
  jitterMs: number;
  /** Online this long and the next failure is retried at once. */
  stableResetMs: number;
}

export const DEFAULT_PACING: PacingPolicy = { spacingMs: 2_000, jitterMs: 500, stableResetMs: 5_000 };

/**
 * Paced retries for one bot: an attempt every 2-2.5 s, for as long as the outage lasts,
 * and the first one at once when the previous attempt is long past. There is no growing delay: a
 * single client's steady 24-30 attempts a minute are polite, and a path that comes back after ten
 * minutes is found as quickly as one that comes back after ten seconds.
 */
export class Pacer implements RetryPolicy {
  private lastStart = -Infinity;
  private attempt = 0;

  constructor(
    private readonly policy: PacingPolicy = DEFAULT_PACING,
    private readonly random: () => number = Math.random,
  ) {}

  get attempts(): number {
    return this.attempt;
  }

  /** A connect that hangs this long (a black hole, a zombie server) gets a sibling beside it. */
  get hedgeAfterMs(): number {
    return this.policy.spacingMs;
  }

  nextDelayMs(now: number): number {
    const earliest = this.lastStart + this.policy.spacingMs + Math.floor(this.random() * this.policy.jitterMs);
    const delay = Math.max(0, earliest - now);
    this.lastStart = now + delay;
    this.attempt += 1;
    return delay;
  }

  attemptStarted(now: number): void {
    this.lastStart = now;
  }

  noteStable(onlineForMs: number): void {
    if (onlineForMs >= this.policy.stableResetMs) this.attempt = 0;
  }
}

/**
 * Runs `attempt`; while the newest one hangs for `hedgeAfterMs`, starts another when the policy
 * allows, so a connect that is never answered costs one spacing, not a whole connect timeout. The
 * first success wins and the others are aborted; one that succeeds anyway is handed to `release`.
 * Rejects once every attempt started has failed. The caller bounds the whole race.
 */
export function hedged<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  opts: {
    policy: RetryPolicy;
    now: () => number;
    signal: AbortSignal;
    release: (late: T) => void;
    /** A sibling will start in this many ms (for the log and STATUS=). */
    onHedge?: (delayMs: number) => void;
  },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const running = new Set<AbortController>();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      for (const c of running) c.abort();
      settle();
    };
    const onAbort = () => finish(() => reject(new AbortedError('hedged attempt')));
    const hedge = () => {
      const after = opts.policy.hedgeAfterMs;
      if (after === undefined) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        const delayMs = opts.policy.nextDelayMs(opts.now());
        opts.onHedge?.(delayMs);
        timer = setTimeout(launch, delayMs);
      }, after);
    };
    const launch = () => {
      const controller = new AbortController();
      running.add(controller);
      attempt(controller.signal).then(
        (value) => {
          running.delete(controller);
          if (settled) opts.release(value);
          else finish(() => resolve(value));
        },
        (err: unknown) => {
          running.delete(controller);
          if (running.size === 0) finish(() => reject(err));
        },
      );
      hedge();
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    launch();
  });
}

/** "Webex unreachable for 3 min; next attempt in 2 s": what the bot waits for, in words. */
export function waitingText(outageMs: number, delayMs: number, attempt: number): string {
  return `Webex unreachable for ${duration(outageMs)}; next attempt in ${duration(delayMs)} (attempt ${attempt})`;
}

function duration(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
