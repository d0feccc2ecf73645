import type { Logger } from 'pino';
import { AbortedError, TimeoutError, bounded, sleep } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import { intake } from './intake.js';
import { Pacer, hedged, waitingText, type RetryPolicy } from './recovery.js';
import type { SeenActivities } from './seen-activities.js';
import {
  FATAL_CLOSE_CODES,
  FatalWebexError,
  type BotIdentity,
  type CloseInfo,
  type IncomingActivity,
  type LinkConnection,
  type WebexLink,
} from '../webex/types.js';

/**
 * The connection lifecycle. Every state has a deadline; the watchdog stops when one is overrun by
 * a wide margin, because that means a wait escaped its bound and only a restart can help.
 */
export type ConnectionState =
  | 'starting' // authenticating, learning who we are, registering the device
  | 'connecting' // opening a socket after start or after a failure
  | 'online' // one socket receiving; waiting for the next graceful reconnect
  | 'rotating' // graceful reconnect: opening the next socket while the current one still receives
  | 'draining' // the new socket receives; the old one's handlers get time to finish
  | 'backing_off' // waiting before the next attempt after a failure
  | 'stopping' // shutdown: sockets closed, handlers draining, device unregistering
  | 'stopped'
  | 'failed'; // Webex refused us for good (token); the daemon exits non-zero

export interface SupervisorTimings {
  reconnectIntervalMs: number;
  drainTimeoutMs: number;
  startTimeoutMs: number;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  /** A socket from which nothing (not even a pong) arrives for this long is treated as dead. */
  livenessTimeoutMs: number;
  /** How often the supervisor checks liveness and deadlines, and pings the watchdog. */
  tickMs: number;
  /** How far past a state's deadline the watchdog keeps being fed. */
  watchdogGraceMs: number;
}

export const DEFAULT_TIMINGS: Omit<SupervisorTimings, 'reconnectIntervalMs' | 'drainTimeoutMs'> = {
  startTimeoutMs: 30_000,
  // With hedged attempts a hanging connect costs one spacing; this only bounds how long one SDK instance gets.
  connectTimeoutMs: 30_000,
  closeTimeoutMs: 5_000,
  // The SDK pings every 5 s and gives up 4 s later; this catches a socket even its ping misses.
  livenessTimeoutMs: 11_000,
  tickMs: 1_000,
  watchdogGraceMs: 30_000,
};

/** In an outage where Webex answers with errors, every this many failed attempts runs on a fresh SDK instance. */
const RENEW_EVERY = 20;

export interface SupervisorStatus {
  state: ConnectionState;
  since: number;
  reconnects: number;
  lastReconnectMs?: number;
  lastReconnectReason?: string;
  bot?: BotIdentity;
  /** When the receiving socket was last heard from (none while no socket receives). */
  lastHeardAt?: number;
}

export interface SupervisorDeps {
  link: WebexLink;
  log: Logger;
  seen: SeenActivities;
  /** Told of every activity a socket delivers, duplicates too, before anything else (the canary asks about them). */
  onReceive?: (activity: IncomingActivity) => void;
  /** Handles one activity (fetch, command, reply); the supervisor only tracks it for draining. */
  handle: (activity: IncomingActivity) => Promise<void>;
  /** Work begun outside the sockets (the cluster's taken-over claims), let finish beside the handlers at shutdown. */
  drainAlso?: () => Promise<void>;
  timings: SupervisorTimings;
  /** When to retry after a failure; paced (Pacer) unless a test or the baseline bench says otherwise. */
  backoff?: RetryPolicy;
  onState?: (status: SupervisorStatus, detail: string) => void;
  /** Called from the supervisor's own loop, only while it is making progress. */
  onProgress?: (status: SupervisorStatus) => void;
  /** Called once per completed reconnect (stats and metrics). */
  onReconnect?: (r: { graceful: boolean; reason?: string; durationMs: number; deafMs: number }) => void;
  now?: () => number;
}

export type SupervisorOutcome = { kind: 'stopped' } | { kind: 'failed'; reason: string };

interface Tracked {
  conn: LinkConnection;
  inFlight: Set<Promise<void>>;
  closed?: CloseInfo;
}

type Wake = { kind: 'rotate'; reason: string } | { kind: 'lost'; reason: string } | { kind: 'fatal'; reason: string } | { kind: 'stop' };

export class Supervisor {
  private state: ConnectionState = 'starting';
  private stateSince: number;
  private stateReason = 'process start';
  private deadline: number;
  private readonly connections = new Set<Tracked>();
  private active?: Tracked;
  private bot?: BotIdentity;
  private reconnects = 0;
  private lastReconnectMs?: number;
  private lastReconnectReason?: string;
  private reconnectStartedAt?: number;
  /** When no socket was receiving since; undefined while one is. */
  private deafSince?: number;
  /** Since when the connection has been up without a failure; graceful rotations do not restart it. */
  private onlineSince?: number;
  private rotateAt = Infinity;
  private pendingWake?: Wake;
  private wakeUp?: () => void;
  private readonly lifetime = new AbortController();
  private ticker?: NodeJS.Timeout;
  private readonly backoff: RetryPolicy;
  private readonly now: () => number;
  private readonly t: SupervisorTimings;

  constructor(private readonly deps: SupervisorDeps) {
    this.now = deps.now ?? Date.now;
    this.backoff = deps.backoff ?? new Pacer();
    this.t = deps.timings;
    this.stateSince = this.now();
    this.deadline = this.stateSince + this.t.startTimeoutMs;
    this.deafSince = this.stateSince;
  }

  status(): SupervisorStatus {
    return {
      state: this.state,
      since: this.stateSince,
      reconnects: this.reconnects,
      lastReconnectMs: this.lastReconnectMs,
      lastReconnectReason: this.lastReconnectReason,
      bot: this.bot,
      lastHeardAt: this.active?.conn.lastHeardAt(),
    };
  }

  /** Runs until stop() or a fatal refusal; never rejects. */
  async run(): Promise<SupervisorOutcome> {
    this.ticker = setInterval(() => this.tick(), this.t.tickMs);
    this.transition('starting', 'process start', this.t.startTimeoutMs);
    this.backoff.attemptStarted?.(this.now()); // a failed start is retried one spacing later, not at once
    try {
      for (;;) {
        const outcome = await this.step();
        if (outcome) return outcome;
      }
    } finally {
      clearInterval(this.ticker);
    }
  }

  /** Graceful shutdown: stop receiving, let handlers finish, unregister. */
  stop(reason: string): void {
    if (this.lifetime.signal.aborted) return;
    this.deps.log.info({ event: 'supervisor.stop_requested', reason });
    this.wake({ kind: 'stop' });
    this.lifetime.abort();
  }

  /** Something in the SDK went wrong outside any call we made (an unhandled rejection): rebuild it. */
  sdkFault(reason: string): void {
    this.deps.link.renew(reason);
  }

  /** Rebuilds the Webex link from scratch (fresh SDK instance, new device) and moves onto it, make before break. */
  rebuildLink(reason: string): void {
    this.deps.link.rebuild(reason);
    this.wake({ kind: 'rotate', reason });
  }

  private async step(): Promise<SupervisorOutcome | undefined> {
    if (this.lifetime.signal.aborted && this.state !== 'stopping') {
      this.transition('stopping', 'stop requested', this.stopBudgetMs());
    }
    switch (this.state) {
      case 'starting':
        return this.attempt(
          async (signal) => {
            this.bot = await this.deps.link.start(signal);
            this.deps.log.info({ event: 'webex.identity', botId: this.bot.id, displayName: this.bot.displayName });
            this.transition('connecting', 'identity and device ready', this.t.connectTimeoutMs);
          },
          this.t.startTimeoutMs,
          'start',
        );
      case 'connecting':
        return this.attempt(
          async (signal) => {
            const conn = await hedged((s) => this.deps.link.connect(s), {
              policy: this.backoff,
              now: this.now,
              signal,
              release: (late) => void late.close(),
              onHedge: (delayMs) => this.waiting('connect attempt hanging', delayMs),
            });
            this.goOnline(this.adopt(conn), 'connected');
          },
          this.t.connectTimeoutMs,
          'connect',
        );
      case 'online':
        return this.online();
      case 'rotating':
        return this.rotate();
      case 'backing_off':
        return this.backOff(this.stateReason);
      case 'stopping':
        await this.shutdown();
        this.transition('stopped', 'shutdown complete', Infinity);
        return { kind: 'stopped' };
      case 'draining': // rotate() drains within its own step and leaves the state online
      case 'stopped': // the run ends with the outcome that set these two
      case 'failed':
        throw new Error(`supervisor stepped in state ${this.state}`);
    }
  }

  /** Runs one bounded step; any failure goes to backing off, a fatal one ends the run. */
  private async attempt(
    work: (signal: AbortSignal) => Promise<void>,
    timeoutMs: number,
    what: string,
  ): Promise<SupervisorOutcome | undefined> {
    try {
      await bounded(what, work, { timeoutMs, signal: this.lifetime.signal });
    } catch (err) {
      return this.failedAttempt(what, err);
    }
    return undefined;
  }

  private failedAttempt(what: string, err: unknown): SupervisorOutcome | undefined {
    if (err instanceof AbortedError && this.lifetime.signal.aborted) return undefined; // stop() takes over
    if (err instanceof FatalWebexError) return this.fail(err.message);
    const reason = `${what} failed: ${errorText(err)}`;
    // A start that timed out means the SDK may be wedged inside: never trust that instance again. A
    // connect that timed out had hedged siblings on fresh sockets, so it says more about the path
    // than the instance, and a fresh instance's catalog fetch and device refresh would hang on that
    // path too. Otherwise a fresh one only when the device may be gone (404), and now and then in an
    // outage where Webex answers (with errors), in case the instance is at fault after all.
    const timedOut = err instanceof TimeoutError;
    const nowAndThen = !timedOut && (this.backoff.attempts + 1) % RENEW_EVERY === 0;
    if ((timedOut && what !== 'connect') || /\b404\b/.test(reason) || nowAndThen) this.deps.link.renew(reason);
    this.transition('backing_off', reason, 0);
    return undefined;
  }

  private async online(): Promise<SupervisorOutcome | undefined> {
    const wake = await this.waitForWake(this.rotateAt - this.now());
    switch (wake.kind) {
      case 'rotate':
        this.startReconnect(wake.reason);
        this.transition('rotating', `graceful reconnect (${wake.reason})`, this.t.connectTimeoutMs);
        return undefined;
      case 'lost':
        await this.connectionLost(wake.reason);
        return undefined;
      case 'fatal':
        return this.fail(wake.reason);
      case 'stop':
        return undefined;
    }
  }

  /** Make before break: the next socket is online before the current one stops receiving. */
  private async rotate(): Promise<SupervisorOutcome | undefined> {
    let next: Tracked;
    try {
      next = this.adopt(
        await bounded('graceful connect', (signal) => this.deps.link.connect(signal), {
          timeoutMs: this.t.connectTimeoutMs,
          signal: this.lifetime.signal,
        }),
      );
    } catch (err) {
      if (this.lifetime.signal.aborted) return undefined;
      if (err instanceof FatalWebexError) return this.fail(err.message);
      const reason = `graceful connect failed: ${errorText(err)}`;
      this.deps.link.renew(reason);
      if (this.active && !this.active.closed) {
        // The current socket still works: keep it, and try again after a backoff-sized pause.
        this.deps.log.warn({ event: 'reconnect.failed', reason });
        this.reconnectStartedAt = undefined;
        this.rotateAt = this.now() + this.backoff.nextDelayMs(this.now());
        this.transition('online', reason, this.rotateAt - this.now() + this.t.connectTimeoutMs);
        return undefined;
      }
      await this.connectionLost(reason); // the current socket died while the next one failed
      return undefined;
    }
    const previous = this.active;
    this.goOnline(next, 'next connection online', 'draining', this.t.drainTimeoutMs + this.t.closeTimeoutMs);
    if (previous) {
      await this.drain([previous]);
      await this.teardown(previous, 'replaced by graceful reconnect');
    }
    if (this.state === 'draining') {
      this.transition('online', 'previous connection drained', this.t.reconnectIntervalMs + this.t.connectTimeoutMs);
    }
    return undefined;
  }

  private async backOff(why: string): Promise<SupervisorOutcome | undefined> {
    const delayMs = this.backoff.nextDelayMs(this.now());
    this.deadline = this.now() + delayMs;
    this.waiting(why, delayMs);
    try {
      await sleep(delayMs, this.lifetime.signal);
    } catch {
      return undefined; // stop requested
    }
    this.transition(this.bot ? 'connecting' : 'starting', 'backoff elapsed', this.bot ? this.t.connectTimeoutMs : this.t.startTimeoutMs);
    return undefined;
  }

  /** Says what the next attempt waits for, in the log (a warning: the bot is deaf meanwhile) and in STATUS=. */
  private waiting(why: string, delayMs: number): void {
    const outageMs = this.now() - (this.deafSince ?? this.now());
    this.deps.log.warn({ event: 'reconnect.wait', reason: why, outageMs, delayMs, attempt: this.backoff.attempts });
    this.announce(`${why}; ${waitingText(outageMs, delayMs, this.backoff.attempts)}`);
  }

  private async connectionLost(reason: string): Promise<void> {
    const lost = this.active;
    this.active = undefined;
    this.deafSince ??= this.now();
    this.startReconnect(reason);
    // A dead socket's close can take its whole timeout (nothing answers on a black-holed path): the
    // next attempt does not wait for it.
    if (lost) void this.teardown(lost, reason);
    this.transition('backing_off', reason, 0);
  }

  private async shutdown(): Promise<void> {
    const all = [...this.connections];
    // Close first: frames not yet received stay with Webex instead of being acked and dropped.
    await Promise.all(all.map((c) => this.teardown(c, 'shutdown')));
    await Promise.all([this.drain(all), this.deps.drainAlso?.()]);
    try {
      await bounded('device unregister', (signal) => this.deps.link.shutdown(signal), { timeoutMs: this.t.closeTimeoutMs * 2 });
      this.deps.log.info({ event: 'webex.unregistered' });
    } catch (err) {
      this.deps.log.warn({ event: 'webex.unregister_failed', err: errorText(err) });
    }
  }

  private stopBudgetMs(): number {
    return this.t.drainTimeoutMs + this.t.closeTimeoutMs * 3;
  }

  private fail(reason: string): SupervisorOutcome {
    this.transition('failed', reason, Infinity);
    return { kind: 'failed', reason };
  }

  private adopt(conn: LinkConnection): Tracked {
    const tracked: Tracked = { conn, inFlight: new Set() };
    this.connections.add(tracked);
    conn.onActivity((activity) => this.receive(tracked, activity));
    conn.onClose((info) => this.closed(tracked, info));
    conn.onRetiring(() => {
      if (tracked === this.active) this.wake({ kind: 'rotate', reason: 'Webex announced it will close the socket' });
    });
    return tracked;
  }

  private goOnline(next: Tracked, reason: string, state: ConnectionState = 'online', budgetMs?: number): void {
    this.active = next;
    const now = this.now();
    if (this.state === 'connecting') this.onlineSince = now;
    this.rotateAt = now + this.t.reconnectIntervalMs;
    // A loss reported before this point was the previous socket's; the new one is fine.
    if (this.pendingWake?.kind === 'lost' || this.pendingWake?.kind === 'rotate') this.pendingWake = undefined;
    const deafMs = this.deafSince === undefined ? 0 : now - this.deafSince;
    this.deafSince = undefined;
    if (this.reconnectStartedAt !== undefined) {
      this.reconnects += 1;
      this.lastReconnectMs = now - this.reconnectStartedAt;
      this.deps.log.info({
        event: 'reconnect.done',
        reason: this.lastReconnectReason,
        durationMs: this.lastReconnectMs,
        deafMs,
        connection: next.conn.id,
      });
      this.deps.onReconnect?.({
        graceful: state === 'draining',
        reason: this.lastReconnectReason,
        durationMs: this.lastReconnectMs,
        deafMs,
      });
      this.reconnectStartedAt = undefined;
    }
    this.transition(state, reason, budgetMs ?? this.t.reconnectIntervalMs + this.t.connectTimeoutMs);
  }

  private startReconnect(reason: string): void {
    if (this.reconnectStartedAt !== undefined) return; // one cycle, however many attempts it takes
    this.reconnectStartedAt = this.now();
    this.lastReconnectReason = reason;
    this.deps.log.info({ event: 'reconnect.start', reason });
  }

  /** Called by the SDK, which swallows what we throw: nothing may escape from here, or the bot goes deaf unseen. */
  private receive(from: Tracked, activity: IncomingActivity): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.deps.onReceive?.(activity);
    const handling = intake(this.deps, activity, from.conn.id);
    if (!handling) return;
    from.inFlight.add(handling);
    void handling.finally(() => from.inFlight.delete(handling));
  }

  private closed(tracked: Tracked, info: CloseInfo): void {
    if (tracked.closed) return;
    tracked.closed = info;
    this.deps.log.info({ event: 'connection.closed', connection: tracked.conn.id, code: info.code, reason: info.reason });
    if (tracked !== this.active) return;
    if (info.code !== undefined && FATAL_CLOSE_CODES.has(info.code)) {
      this.wake({ kind: 'fatal', reason: `Webex refused the connection (${info.code} ${info.reason})` });
    } else {
      // A socket closed for missing pongs went quiet before the close; anything else broke just now.
      this.deafSince ??= /pong/i.test(info.reason) ? tracked.conn.lastHeardAt() : this.now();
      this.wake({ kind: 'lost', reason: `connection closed (${info.code ?? 'no code'} ${info.reason})` });
    }
  }

  /** Waits for in-flight handlers of these connections, up to the drain timeout. */
  private async drain(from: Tracked[]): Promise<void> {
    const pending = from.flatMap((c) => [...c.inFlight]);
    if (pending.length === 0) return;
    this.deps.log.info({ event: 'drain.start', inFlight: pending.length });
    const started = this.now();
    try {
      await bounded('drain', Promise.all(pending), { timeoutMs: this.t.drainTimeoutMs });
      this.deps.log.info({ event: 'drain.done', durationMs: this.now() - started });
    } catch {
      const left = from.reduce((n, c) => n + c.inFlight.size, 0);
      this.deps.log.warn({ event: 'drain.timeout', durationMs: this.now() - started, abandoned: left });
    }
  }

  /** The one path every connection leaves by, whatever ended it. */
  private async teardown(tracked: Tracked, reason: string): Promise<void> {
    this.connections.delete(tracked);
    if (this.active === tracked) this.active = undefined;
    tracked.closed ??= { reason };
    try {
      await bounded('connection close', tracked.conn.close(), { timeoutMs: this.t.closeTimeoutMs });
    } catch (err) {
      this.deps.log.warn({ event: 'connection.close_failed', connection: tracked.conn.id, err: errorText(err) });
    }
    this.deps.log.debug({ event: 'connection.torn_down', connection: tracked.conn.id, reason });
  }

  private tick(): void {
    const now = this.now();
    const active = this.active;
    if (active && (this.state === 'online' || this.state === 'rotating' || this.state === 'draining')) {
      const silentMs = now - active.conn.lastHeardAt();
      if (silentMs > this.t.livenessTimeoutMs) {
        this.deps.log.warn({ event: 'liveness.failed', connection: active.conn.id, silentMs });
        active.closed ??= { reason: `nothing heard for ${silentMs} ms` };
        // Deaf since the last sign of life, not since we noticed.
        this.deafSince ??= active.conn.lastHeardAt();
        if (this.state === 'online') this.wake({ kind: 'lost', reason: `no sign of life for ${silentMs} ms` });
      }
      if (this.onlineSince !== undefined) this.backoff.noteStable(now - this.onlineSince);
    }
    if (now <= this.deadline + this.t.watchdogGraceMs) {
      this.deps.onProgress?.(this.status());
    } else {
      this.deps.log.error({ event: 'watchdog.withheld', state: this.state, overdueMs: now - this.deadline });
    }
  }

  private waitForWake(timeoutMs: number): Promise<Wake> {
    const pending = this.takeWake();
    if (pending) return Promise.resolve(pending);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.wakeUp = undefined;
          resolve({ kind: 'rotate', reason: 'scheduled' });
        },
        Math.max(0, timeoutMs),
      );
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve(this.takeWake() ?? { kind: 'stop' });
      };
    });
  }

  private takeWake(): Wake | undefined {
    const wake = this.pendingWake;
    this.pendingWake = undefined;
    return wake;
  }

  private wake(wake: Wake): void {
    // A stop outranks everything; a fatal outranks a loss.
    const rank = { rotate: 0, lost: 1, fatal: 2, stop: 3 } as const;
    if (!this.pendingWake || rank[wake.kind] >= rank[this.pendingWake.kind]) this.pendingWake = wake;
    this.wakeUp?.();
  }

  private transition(to: ConnectionState, reason: string, budgetMs: number): void {
    const from = this.state;
    const now = this.now();
    this.state = to;
    this.stateSince = now;
    this.stateReason = reason;
    this.deadline = now + budgetMs;
    this.deps.log.info({ event: 'connection.state', from, to, reason });
    this.announce(reason);
  }

  private announce(detail: string): void {
    this.deps.onState?.(this.status(), detail);
  }
}
