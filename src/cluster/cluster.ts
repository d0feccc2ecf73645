/**
 * Several instances, one voice: every activity reaches every instance, and the claims table decides
 * which one answers. This module is the claim gate around the daemon's handler plus its background
 * round (schema, sweeper, heartbeat, retention). States:
 *
 *   preparing ── schema migrated ──> claiming
 *   claiming ── database down ──> waiting ── awayAfterMs ──> away ── database up ──> grace ── graceMs ──> claiming
 *                                 waiting ── database up ──> grace
 *   any ── stop() ──> stopping ── close() done ──> stopped
 *
 * claiming: claim every activity; the winner answers. waiting: the database has only just gone (a
 * restart is back within seconds), and a peer may have won, just before the cut, the very claim that
 * failed here: the preferred instance holds each message (at most awayAfterMs) and claims it once the
 * database is back, the others drop. away / preparing: the preferred instance answers alone (its ids
 * are settled as done claims once the database is back), the others drop. grace: the database just
 * came back; the preferred instance may not have noticed yet (its probe is paced), so the others keep
 * dropping for one probe interval, and nobody sweeps.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database, DatabaseStatus } from '../database/database.js';
import { migrate } from '../database/migrate.js';
import { bounded, sleep, waitForEvent } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import type { IncomingActivity } from '../webex/types.js';
import { ClaimsTable } from './claims.js';
import { underClaim } from './fence.js';
import { ClaimFencedError, HeldClaim } from './held.js';
import { InstancesTable } from './instances.js';
import { CLUSTER_MIGRATIONS } from './schema.js';
import type { ClusterSettings } from './settings.js';
import { Throttled } from './throttle.js';
import { staggerMs } from './stagger.js';

export type ClusterState = 'preparing' | 'claiming' | 'waiting' | 'away' | 'grace' | 'stopping' | 'stopped';
export type ClaimResult = 'won' | 'lost' | 'taken_over' | 'alone' | 'dropped' | 'fenced';

export interface ClusterTimings {
  /** A claim's lease: how long a silent owner keeps it before another instance may take it over. */
  leaseMs: number;
  renewEveryMs: number;
  /** Before a reply, a lease confirmed longer ago than (lease - margin) is re-confirmed. */
  fenceMarginMs: number;
  /** The background round: sweep for expired claims, and whatever else is due. */
  sweepEveryMs: number;
  sweepBatch: number;
  maxTakeovers: number;
  heartbeatEveryMs: number;
  /** Peers are the instances whose heartbeat is younger than this. */
  peersWindowMs: number;
  retentionMs: number;
  pruneEveryMs: number;
  /** After the database comes back: at least the database's longest probe interval. */
  graceMs: number;
  /**
   * How long the database must have been away before the preferred instance answers alone; until
   * then it holds each message for the database to decide. Longer than the probe takes to find a
   * restarted server back, or a restart would be answered alone.
   */
  awayAfterMs: number;
  /** On stop, how long taken-over handlers get to finish. */
  drainTimeoutMs: number;
  /**
   * How long after start a message waits for the database before the away rule applies: a first
   * connection slowed by a loaded machine is not an outage, and peers may be claiming meanwhile.
   */
  prepareWaitMs: number;
  /** Each instance waits its rank for the activity times this before claiming (spreads the work). */
  staggerStepMs: number;
  /** claim.alone / claim.dropped: at most one line per this long. */
  logEveryMs: number;
}

export const DEFAULT_CLUSTER_TIMINGS: ClusterTimings = {
  leaseMs: 10_000,
  renewEveryMs: 3_000,
  fenceMarginMs: 3_000,
  sweepEveryMs: 2_000,
  sweepBatch: 20,
  maxTakeovers: 2,
  heartbeatEveryMs: 5_000,
  peersWindowMs: 30_000,
  retentionMs: 30 * 60_000,
  pruneEveryMs: 60_000,
  graceMs: 5_000,
  // The probe finds a server back within 3.5 s at its third try (after 0.5, 1 and 2 s); 1.5 s more
  // for that try on a loaded machine. The first messages of a longer outage are answered this late.
  awayAfterMs: 5_000,
  drainTimeoutMs: 10_000,
  logEveryMs: 10_000,
  staggerStepMs: 5,
  prepareWaitMs: 10_000, // a lease: what a peer's claim on the same message may still hold
};

/** Where claim outcomes are counted (the metrics). */
export interface ClusterObserver {
  claim(result: ClaimResult, latencyMs?: number): void;
}

export interface ClusterDeps {
  db: Database;
  settings: ClusterSettings;
  version: string;
  log: Logger;
  /** The daemon's own handler: fetch, command, reply. */
  handle: (activity: IncomingActivity) => Promise<void>;
  /** Whether this instance can answer now (online to Webex); only then does it take over others' claims. */
  canTakeOver: () => boolean;
  timings?: Partial<ClusterTimings>;
  observer?: ClusterObserver;
  /** Wall clock for grace and throttling, monotonic for leases (tests may inject both). */
  now?: () => number;
  monotonic?: () => number;
}

export interface ClusterStatus {
  instance: string;
  owner: string;
  preferredInstance: string;
  state: ClusterState;
  /** Other instances whose heartbeat was seen within the window, as of the last heartbeat. */
  peers: string[];
  claims: Record<ClaimResult, number>;
  database: DatabaseStatus;
}

/** How often a message at start looks whether the database has been reached. */
const START_POLL_MS = 100;
/** Ids answered without a done claim in the database yet; bounded, the oldest go first. */
const MAX_UNSETTLED = 10_000;

export class Cluster {
  readonly owner: string;
  private state: ClusterState = 'preparing';
  /** When a timed state (waiting, grace) ends. */
  private endsAt = Infinity;
  /** Emits 'state' at every change: held messages look again. Each held message listens, as it does to `lifetime`. */
  private readonly changes = new EventEmitter().setMaxListeners(0);
  private peers: string[] = [];
  private readonly counts: Record<ClaimResult, number> = { won: 0, lost: 0, taken_over: 0, alone: 0, dropped: 0, fenced: 0 };
  private readonly unsettled = new Set<string>();
  private readonly takeovers = new Set<Promise<void>>();
  /** Claims whose handlers run now; their renewals end at close() even if a handler never does. */
  private readonly held = new Set<HeldClaim>();
  private readonly claims: ClaimsTable;
  private readonly instances: InstancesTable;
  private readonly t: ClusterTimings;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly lifetime = new AbortController();
  private readonly aloneLog: Throttled;
  private readonly droppedLog: Throttled;
  private readonly migrateLog: Throttled;
  private round?: Promise<void>;
  private firstPrepare: Promise<void> = Promise.resolve();
  private startedAt = 0;
  private prepareFailed = false;
  private closing?: Promise<void>;
  private draining?: Promise<void>;

  constructor(private readonly deps: ClusterDeps) {
    setMaxListeners(0, this.lifetime.signal);
    this.t = { ...DEFAULT_CLUSTER_TIMINGS, ...deps.timings };
    this.now = deps.now ?? Date.now;
    this.monotonic = deps.monotonic ?? (() => performance.now());
    this.owner = `${deps.settings.instance}/${process.pid}-${randomBytes(3).toString('hex')}`;
    this.claims = new ClaimsTable(deps.db, this.owner);
    this.instances = new InstancesTable(deps.db, {
      owner: this.owner,
      name: deps.settings.instance,
      version: deps.version,
      startedAt: this.now(),
    });
    this.aloneLog = new Throttled(this.t.logEveryMs, this.now);
    this.droppedLog = new Throttled(this.t.logEveryMs, this.now);
    this.migrateLog = new Throttled(this.t.logEveryMs, this.now);
    deps.db.onHealth((health) => this.healthChanged(health));
  }

  get preferred(): boolean {
    return this.deps.settings.instance === this.deps.settings.preferredInstance;
  }

  /** Starts the background round (schema first); claims follow as soon as the schema is there. */
  start(): void {
    const { instance, preferredInstance } = this.deps.settings;
    this.deps.log.info({
      event: 'cluster.start',
      instance,
      owner: this.owner,
      preferredInstance,
      target: this.deps.db.target,
      leaseMs: this.t.leaseMs,
    });
    this.startedAt = this.now();
    this.firstPrepare = this.prepare();
    this.round = this.loop();
  }

  /** The claim gate: the supervisor's handler for every activity once it passed local de-duplication. */
  async handle(activity: IncomingActivity): Promise<void> {
    if (this.state === 'preparing') await this.databaseAtStart();
    // However often the database flaps meanwhile, a message waits for it at most this long.
    const holdUntil = this.now() + this.t.awayAfterMs;
    for (;;) {
      const mode = this.mode(holdUntil);
      if (mode === 'hold') {
        await this.hold(activity, holdUntil);
        continue;
      }
      if (mode !== 'claim') return this.without(activity, mode, this.state);
      const waitMs = staggerMs(activity.id, this.deps.settings.instance, this.peers, this.t.staggerStepMs);
      if (waitMs > 0) await sleep(waitMs);
      const sentAt = this.monotonic();
      let won: boolean;
      try {
        won = await this.claims.claim(activity, this.t.leaseMs);
      } catch (err) {
        // The database just went away (this very claim may have noticed it): held like the next ones.
        if (this.mode(holdUntil) === 'hold') continue;
        return this.without(activity, this.preferred ? 'alone' : 'drop', errorText(err));
      }
      return this.claimed(activity, won, sentAt);
    }
  }

  status(): ClusterStatus {
    const { instance, preferredInstance } = this.deps.settings;
    return {
      instance,
      owner: this.owner,
      preferredInstance,
      state: this.currentState(),
      peers: [...this.peers],
      claims: { ...this.counts },
      database: this.deps.db.status(),
    };
  }

  /** Stops sweeping and heartbeats at once; claims in hand keep being renewed until close(). */
  stop(): void {
    if (this.lifetime.signal.aborted) return;
    this.enter('stopping');
    this.lifetime.abort();
  }

  /** After the drains: stops the renewals left, settles what it can, leaves the peers. */
  close(): Promise<void> {
    this.stop();
    this.closing ??= this.teardown();
    return this.closing;
  }

  /** Waits for taken-over handlers, up to the drain timeout (the supervisor calls it beside its own drain). */
  drain(): Promise<void> {
    this.draining ??= this.drainTakeovers();
    return this.draining;
  }

  private async drainTakeovers(): Promise<void> {
    this.stop();
    // The round first: a sweep under way may still take claims over. One bound for both.
    const drained = async () => {
      await this.round;
      await Promise.all([...this.takeovers]);
    };
    await bounded('cluster drain', drained(), { timeoutMs: this.t.drainTimeoutMs }).catch(() => {
      this.deps.log.warn({
        event: 'drain.timeout',
        what: this.takeovers.size ? 'taken-over claims' : 'the cluster round',
        durationMs: this.t.drainTimeoutMs,
        abandoned: this.takeovers.size,
      });
    });
  }

  private async teardown(): Promise<void> {
    await this.drain();
    // Handlers the drains abandoned: their leases run out, and a peer takes them over.
    for (const held of this.held) held.release();
    await this.settle();
    await this.instances.leave().catch(() => undefined);
    this.enter('stopped');
  }

  /** Just started: waits for the first schema check, and then for the database, until prepareWaitMs after start. */
  private async databaseAtStart(): Promise<void> {
    const deadline = this.startedAt + this.t.prepareWaitMs;
    await bounded('schema check', this.firstPrepare, { timeoutMs: Math.max(0, deadline - this.now()) }).catch(() => undefined);
    while (this.state === 'preparing' && !this.deps.db.isUp && this.now() < deadline) await sleep(START_POLL_MS);
  }

  /** What to do with a message now; one held until `holdUntil` is answered alone after it. */
  private mode(holdUntil: number): 'claim' | 'hold' | 'alone' | 'drop' {
    const state = this.currentState();
    if (state === 'claiming' || state === 'stopping' || (state === 'grace' && this.preferred)) return 'claim';
    // Our own migration failed but the database answers: a peer's schema may well be there, try it.
    if (state === 'preparing' && this.deps.db.isUp) return 'claim';
    if (state === 'grace' || !this.preferred) return 'drop';
    return state === 'waiting' && this.now() < holdUntil ? 'hold' : 'alone';
  }

  private currentState(): ClusterState {
    // Only waiting and grace end by themselves.
    if (this.now() >= this.endsAt) this.enter(this.state === 'waiting' ? 'away' : 'claiming');
    return this.state;
  }

  /** Waits for the next state change (the database back, or away for too long), at most until `holdUntil`. */
  private async hold(activity: IncomingActivity, holdUntil: number): Promise<void> {
    const since = this.now();
    const timeoutMs = Math.max(0, Math.min(this.endsAt, holdUntil) - since);
    await waitForEvent(this.changes, 'state', { timeoutMs, signal: this.lifetime.signal, what: 'the database back' }).catch(
      () => undefined,
    );
    this.deps.log.debug({ event: 'claim.held', id: activity.id, heldMs: this.now() - since, state: this.currentState() });
  }

  /** The claim's outcome: lost, or won and handled. */
  private async claimed(activity: IncomingActivity, won: boolean, sentAt: number): Promise<void> {
    const latencyMs = this.monotonic() - sentAt;
    if (!won) {
      this.count('lost', latencyMs);
      this.deps.log.debug({ event: 'claim.lost', id: activity.id, latencyMs });
      return;
    }
    this.count('won', latencyMs);
    this.deps.log.debug({ event: 'claim.won', id: activity.id, latencyMs });
    await this.handleHeld(activity, sentAt);
  }

  /** The database cannot decide: the preferred instance answers alone, the others stay silent. */
  private async without(activity: IncomingActivity, mode: 'alone' | 'drop', reason: string): Promise<void> {
    if (mode === 'drop') {
      this.count('dropped');
      this.droppedLog.maybe((suppressed) =>
        this.deps.log.warn({
          event: 'claim.dropped',
          id: activity.id,
          reason,
          preferredInstance: this.deps.settings.preferredInstance,
          suppressed,
        }),
      );
      return;
    }
    this.count('alone');
    this.aloneLog.maybe((suppressed) => this.deps.log.warn({ event: 'claim.alone', id: activity.id, reason, suppressed }));
    try {
      await this.deps.handle(activity);
    } finally {
      this.remember(activity.id);
    }
  }

  /** A claim won or taken over: handled with its lease renewed and its replies fenced, then marked done. */
  private async handleHeld(activity: IncomingActivity, claimedAt: number): Promise<void> {
    const held = new HeldClaim(
      activity.id,
      {
        claims: this.claims,
        log: this.deps.log,
        leaseMs: this.t.leaseMs,
        renewEveryMs: this.t.renewEveryMs,
        fenceMarginMs: this.t.fenceMarginMs,
        answersAlone: () => this.preferred,
        monotonic: this.monotonic,
        onFenced: () => this.count('fenced'),
      },
      claimedAt,
    );
    this.held.add(held);
    try {
      await underClaim(held, () => this.deps.handle(activity));
    } catch (err) {
      if (!(err instanceof ClaimFencedError)) throw err; // already logged as claim.fenced
    } finally {
      const settled = held.isLost || held.isAnswered;
      this.held.delete(held);
      held.release();
      if (!settled) await this.claims.settle([activity.id]).catch(() => this.remember(activity.id));
    }
  }

  private remember(id: string): void {
    if (this.unsettled.size >= MAX_UNSETTLED) this.unsettled.delete(this.unsettled.values().next().value!);
    this.unsettled.add(id);
  }

  private async settle(): Promise<void> {
    if (this.unsettled.size === 0) return;
    const ids = [...this.unsettled];
    try {
      await this.claims.settle(ids);
      for (const id of ids) this.unsettled.delete(id);
    } catch {
      // still away: the next round tries again
    }
  }

  private healthChanged(health: 'up' | 'down'): void {
    if (this.state === 'stopping' || this.state === 'stopped' || this.state === 'preparing') return;
    this.enter(health === 'down' ? 'waiting' : 'grace');
  }

  private enter(state: ClusterState): void {
    this.state = state;
    this.endsAt = this.now() + (state === 'waiting' ? this.t.awayAfterMs : state === 'grace' ? this.t.graceMs : Infinity);
    this.changes.emit('state', state);
    // Back after an outage (or a start without the database): what this instance answered alone is
    // settled before the others' grace ends, so none of them sweeps it.
    if (state === 'grace') void this.settle();
  }

  /** The background round, one at a time: never two sweeps of this instance overlapping. */
  private async loop(): Promise<void> {
    let nextBeat = 0;
    let nextPrune = this.now() + this.t.pruneEveryMs;
    await this.firstPrepare;
    for (;;) {
      if (this.state === 'preparing') await this.prepare();
      const state = this.currentState();
      if (state === 'claiming' || state === 'grace') {
        await this.settle();
        if (state === 'claiming' && this.deps.canTakeOver()) await this.sweep();
        if (this.now() >= nextBeat) {
          nextBeat = this.now() + this.t.heartbeatEveryMs;
          await this.heartbeat();
        }
        if (this.now() >= nextPrune) {
          nextPrune = this.now() + this.t.pruneEveryMs;
          await this.prune();
        }
      }
      try {
        await sleep(this.t.sweepEveryMs, this.lifetime.signal);
      } catch {
        return; // stopping
      }
    }
  }

  private async prepare(): Promise<void> {
    try {
      const applied = await migrate(this.deps.db, CLUSTER_MIGRATIONS);
      if (applied.length) this.deps.log.info({ event: 'database.migrated', steps: applied });
      if (this.state === 'preparing') this.enter(this.deps.db.isUp ? (this.prepareFailed ? 'grace' : 'claiming') : 'away');
    } catch (err) {
      this.prepareFailed = true;
      this.migrateLog.maybe((suppressed) => this.deps.log.warn({ event: 'database.migrate_failed', err: errorText(err), suppressed }));
    }
  }

  private async sweep(): Promise<void> {
    let taken;
    try {
      taken = await this.claims.takeOver(this.t.leaseMs, this.t.maxTakeovers, this.t.sweepBatch);
    } catch {
      return; // the database's own health handles it
    }
    for (const { activity, previousOwner } of taken) {
      this.count('taken_over');
      this.deps.log.info({ event: 'claim.taken_over', id: activity.id, kind: activity.kind, previousOwner });
      const handling = this.handleHeld(activity, this.monotonic()).catch((err: unknown) => {
        this.deps.log.error({ event: 'activity.failed', id: activity.id, err: errorText(err) });
      });
      this.takeovers.add(handling);
      void handling.finally(() => this.takeovers.delete(handling));
    }
  }

  private async heartbeat(): Promise<void> {
    let peers: string[];
    try {
      peers = await this.instances.heartbeat(this.t.peersWindowMs);
    } catch {
      return;
    }
    if (peers.join() !== this.peers.join()) {
      this.deps.log.info({ event: 'cluster.peers', instance: this.deps.settings.instance, peers, was: this.peers });
    }
    this.peers = peers;
  }

  private async prune(): Promise<void> {
    try {
      const removed = await this.claims.prune(this.t.retentionMs);
      await this.instances.prune(this.t.retentionMs);
      if (removed) this.deps.log.debug({ event: 'claim.pruned', removed });
    } catch {
      // next time
    }
  }

  private count(result: ClaimResult, latencyMs?: number): void {
    this.counts[result] += 1;
    this.deps.observer?.claim(result, latencyMs);
  }
}
