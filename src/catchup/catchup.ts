/**
 * Catching up after a gap: whatever people sent while the bot could not hear is listed over REST
 * and answered through the live path. One round at a time; a gap found during a round widens the
 * next. A round runs beside the connection (never delaying READY or the supervisor's loop), and
 * what it has in flight is drained at shutdown beside the handlers.
 */
import type { SupervisorStatus } from '../connection/supervisor.js';
import type { IntakeDeps } from '../connection/intake.js';
import { bounded } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import type { BotIdentity, WebexHistory } from '../webex/types.js';
import { OVERLAP_MS, type Gap, type GapCause, type Gaps } from './gaps.js';
import { DEFAULT_LIMITS, type ListLimits } from './lister.js';
import { runRound, type RoundCounts, type RoundDeps } from './round.js';

export interface CatchUpTimings {
  /** A round (listing and answering) still running after this long is given up. */
  roundTimeoutMs: number;
  /** After a failed round, the gap is tried again this much later. */
  retryAfterMs: number;
  /** At shutdown, how long answers in flight get to finish. */
  drainTimeoutMs: number;
}

export const DEFAULT_CATCHUP_TIMINGS: CatchUpTimings = { roundTimeoutMs: 5 * 60_000, retryAfterMs: 30_000, drainTimeoutMs: 10_000 };

export interface CatchUpDeps extends IntakeDeps {
  gaps: Gaps;
  history: WebexHistory;
  bot: () => BotIdentity | undefined;
  maxAgeMs: number;
  limits?: Partial<ListLimits>;
  timings?: Partial<CatchUpTimings>;
  now?: () => number;
  /** Told of each round once, as it ends (the metrics count from this). */
  onRound?: (round: CatchUpSummary) => void;
}

/** The last round, for `toodles status` and /metrics. */
export interface CatchUpSummary extends Partial<RoundCounts> {
  outcome: 'done' | 'failed';
  causes: GapCause[];
  /** The gap covered (epoch ms); listing began OVERLAP_MS before `from`. */
  from: number;
  to: number;
  startedAt: number;
  durationMs: number;
  err?: string;
}

export class CatchUp {
  private wasOnline = false;
  private running?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private latest?: CatchUpSummary;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lifetime = new AbortController();
  private readonly t: CatchUpTimings;
  private readonly now: () => number;
  private readonly roundDeps: RoundDeps;

  constructor(private readonly deps: CatchUpDeps) {
    this.t = { ...DEFAULT_CATCHUP_TIMINGS, ...deps.timings };
    this.now = deps.now ?? Date.now;
    this.roundDeps = {
      seen: deps.seen,
      handle: deps.handle,
      log: deps.log,
      history: deps.history,
      limits: { ...DEFAULT_LIMITS, ...deps.limits },
      maxAgeMs: deps.maxAgeMs,
      now: this.now,
      track: (answering) => {
        this.inFlight.add(answering);
        void answering.finally(() => this.inFlight.delete(answering));
      },
    };
  }

  /** The supervisor's onState: online for the first time, the gap since the previous process's mark is due. */
  stateChanged(status: SupervisorStatus): void {
    if (this.wasOnline || status.state !== 'online') return;
    this.wasOnline = true;
    this.deps.gaps.online();
    this.next();
  }

  /** The supervisor's onReconnect: any but a graceful one is a gap, and so is a move onto a new device. */
  reconnected(r: { graceful: boolean; deafMs: number }): void {
    this.deps.gaps.reconnected(r);
    this.next();
  }

  last(): CatchUpSummary | undefined {
    return this.latest && { ...this.latest };
  }

  /** At shutdown: no new round or listing; answers in flight get up to the drain timeout. */
  async drain(): Promise<void> {
    this.lifetime.abort();
    clearTimeout(this.retryTimer);
    const pending = [...this.inFlight, ...(this.running ? [this.running] : [])];
    if (pending.length === 0) return;
    await bounded('catch-up drain', Promise.all(pending), { timeoutMs: this.t.drainTimeoutMs }).catch(() => {
      this.deps.log.warn({
        event: 'drain.timeout',
        what: 'catch-up answers',
        durationMs: this.t.drainTimeoutMs,
        abandoned: this.inFlight.size,
      });
    });
  }

  private next(): void {
    if (this.running || this.retryTimer || this.lifetime.signal.aborted) return;
    const gap = this.deps.gaps.take();
    if (!gap) return;
    this.running = this.round(gap).finally(() => {
      this.running = undefined;
      this.next();
    });
  }

  private async round(gap: Gap): Promise<void> {
    const { log } = this.deps;
    const startedAt = this.now();
    const about = { from: new Date(gap.from).toISOString(), to: new Date(gap.to).toISOString(), why: gap.causes.join(', ') };
    log.info({ event: 'catchup.start', ...about, gapMs: gap.to - gap.from, attempt: gap.failures + 1 });
    const summary = (outcome: CatchUpSummary['outcome']) => ({
      outcome,
      causes: gap.causes,
      from: gap.from,
      to: gap.to,
      startedAt,
      durationMs: this.now() - startedAt,
    });
    let ended: CatchUpSummary;
    try {
      const bot = this.deps.bot();
      if (!bot) throw new Error('the bot does not know who it is yet');
      const counts = await bounded(
        'catch-up round',
        (signal) => runRound(this.roundDeps, { from: gap.from - OVERLAP_MS, botId: bot.id }, signal),
        {
          timeoutMs: this.t.roundTimeoutMs,
          signal: this.lifetime.signal,
        },
      );
      this.deps.gaps.settled(gap, true);
      ended = { ...summary('done'), ...counts };
      log.info({ event: 'catchup.done', ...about, ...counts, durationMs: ended.durationMs });
    } catch (err) {
      // Stopping: the gap stays owed, so the mark stays before it and the next start covers it.
      const stopping = this.lifetime.signal.aborted;
      const retrying = !stopping && this.deps.gaps.settled(gap, false);
      ended = { ...summary('failed'), err: errorText(err) };
      log.warn({
        event: 'catchup.failed',
        ...about,
        err: ended.err,
        durationMs: ended.durationMs,
        next: stopping ? 'the next start' : retrying ? `a retry in ${this.t.retryAfterMs} ms` : 'none: given up',
      });
      if (retrying) this.retryLater();
    }
    this.latest = ended;
    this.deps.onRound?.({ ...ended });
  }

  private retryLater(): void {
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.next();
    }, this.t.retryAfterMs);
    this.retryTimer.unref();
  }
}
