/**
 * Prometheus metrics through prom-client: the daemon's stats as counters, gauges and histograms
 * (the StatsSink side of src/stats/), the catch-up rounds, plus the library's default Node metrics.
 * Labels are bounded: reconnect kind, connection state, command name (registered commands only),
 * HTTP status, canary stage, heal action and catch-up outcome; never a message, room or person id.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectionState, SupervisorStatus } from '../connection/supervisor.js';
import type { CanaryRecord, HealAction, ReconnectRecord, StatsSink } from '../stats/stats.js';
import type { ClaimResult, ClusterObserver, ClusterStatus } from '../cluster/cluster.js';
import type { CatchUpSummary } from '../catchup/catchup.js';

/** How long one rendering of the exposition is served to every scraper. */
const RENDER_TTL_MS = 1_000;

const STATES: ConnectionState[] = [
  'starting',
  'connecting',
  'online',
  'rotating',
  'draining',
  'backing_off',
  'stopping',
  'stopped',
  'failed',
];

/** A caught-up message's outcome (the label) and the round's count of it. */
const CATCHUP_MESSAGES = { answered: 'answered', already_answered: 'alreadyAnswered', too_old: 'tooOld' } as const;

export class Metrics implements StatsSink {
  readonly registry = new Registry();
  private readonly reconnects: Counter<'kind'>;
  private readonly reconnectDuration: Histogram;
  private readonly deaf: Counter;
  private readonly messages: Counter;
  private readonly cardSubmits: Counter;
  private readonly commandDuration: Histogram<'command'>;
  private readonly commandFailures: Counter<'command'>;
  private readonly restRetries: Counter<'status'>;
  private readonly watchdog: Gauge;
  private readonly canaryRuns: Counter<'result'>;
  private readonly canaryFailures: Counter<'stage'>;
  private readonly canaryRoundTrip: Gauge;
  private readonly canaryLastOk: Gauge;
  private readonly canaryConsecutive: Gauge;
  private readonly heals: Counter<'action'>;
  private readonly catchUp: {
    rounds: Counter<'outcome'>;
    messages: Counter<'outcome'>;
    leftOver: Counter;
    requests: Counter;
    lastDuration: Gauge;
  };
  private rendered?: { at: number; text: Promise<string> };
  private claims?: { results: Counter<'result'>; latency: Histogram };

  constructor(connection: () => SupervisorStatus) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
    this.reconnects = counter('toodles_reconnects_total', 'Completed reconnects, graceful (make before break) or after a fault', ['kind']);
    for (const kind of ['graceful', 'fault']) this.reconnects.inc({ kind }, 0);
    this.reconnectDuration = new Histogram({
      name: 'toodles_reconnect_duration_seconds',
      help: 'How long a reconnect took, from its start to the next socket online',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.deaf = counter('toodles_deaf_seconds_total', 'Time no socket was receiving, summed over reconnects');
    new Gauge({
      name: 'toodles_connection_state',
      help: 'The connection state: 1 for the current one, 0 for the others',
      labelNames: ['state'],
      registers,
      collect() {
        const now = connection().state;
        for (const state of STATES) this.set({ state }, state === now ? 1 : 0);
      },
    });
    this.messages = counter('toodles_messages_total', 'Messages from others that reached the bot');
    this.cardSubmits = counter('toodles_card_submits_total', 'Card submits that reached the bot');
    this.commandDuration = new Histogram({
      name: 'toodles_command_duration_seconds',
      help: 'Command run time, reply included',
      labelNames: ['command'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.commandFailures = counter('toodles_command_failures_total', 'Commands that threw or ran out of time', ['command']);
    this.restRetries = counter(
      'toodles_webex_rest_retries_total',
      'Webex REST calls retried, by the status that caused it (network: no answer)',
      ['status'],
    );
    this.watchdog = gauge('toodles_watchdog_last_ping_timestamp_seconds', 'When WATCHDOG=1 was last sent to systemd');
    this.canaryRuns = counter('toodles_canary_runs_total', 'Canary runs reported by `toodles canary`', ['result']);
    for (const result of ['ok', 'failed']) this.canaryRuns.inc({ result }, 0);
    this.canaryFailures = counter('toodles_canary_failures_total', 'Failed canary runs by the stage that failed', ['stage']);
    this.canaryRoundTrip = gauge('toodles_canary_round_trip_seconds', 'Round trip of the last successful canary run');
    this.canaryLastOk = gauge('toodles_canary_last_success_timestamp_seconds', 'When a canary run last succeeded');
    this.canaryConsecutive = gauge('toodles_canary_consecutive_failures', 'Canary runs failed in a row');
    this.heals = counter('toodles_canary_heals_total', 'Healing steps the canary asked for (rebuild the link, restart the daemon)', [
      'action',
    ]);
    for (const action of ['rebuild', 'restart']) this.heals.inc({ action }, 0);
    this.catchUp = {
      rounds: counter('toodles_catchup_rounds_total', 'Catch-up rounds after a gap, by how they ended (done, failed)', ['outcome']),
      messages: counter(
        'toodles_catchup_messages_total',
        'Messages found by catch-up rounds that finished: answered, already answered (live or by an earlier round), too old to run',
        ['outcome'],
      ),
      leftOver: counter(
        'toodles_catchup_leftover_total',
        'Spaces active in a gap that a round left unread (over its caps): their messages unanswered',
      ),
      requests: counter('toodles_catchup_requests_total', 'Listing requests made by catch-up rounds that finished'),
      lastDuration: gauge('toodles_catchup_last_duration_seconds', 'How long the last catch-up round took'),
    };
    for (const outcome of ['done', 'failed']) this.catchUp.rounds.inc({ outcome }, 0);
    for (const outcome of Object.keys(CATCHUP_MESSAGES)) this.catchUp.messages.inc({ outcome }, 0);
  }

  /**
   * The Prometheus text. Scraping must not disturb the bot: one rendering (1-3 ms of this thread,
   * mostly the default Node metrics) is served for up to a second, so a hundred scrapers a second
   * cost about what one does. Prometheus scrapes every 15 s or so; a second of age is nothing to it.
   */
  render(now = Date.now()): Promise<string> {
    const r = this.rendered;
    if (r && now - r.at < RENDER_TTL_MS) return r.text;
    const text = this.registry.metrics();
    this.rendered = { at: now, text };
    text.catch(() => (this.rendered = undefined));
    return text;
  }

  /** Claim outcomes and the claim's added latency (only when a database is configured): the cluster reports to this. */
  countClaims(): ClusterObserver {
    const registers = [this.registry];
    const results = new Counter({
      name: 'toodles_claims_total',
      help: 'Activities by claim outcome: won, lost (another instance has it), taken_over (expired claim of another), alone (preferred instance, database away), dropped (database away), fenced (reply withheld)',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['won', 'lost', 'taken_over', 'alone', 'dropped', 'fenced'] satisfies ClaimResult[]) results.inc({ result }, 0);
    const latency = new Histogram({
      name: 'toodles_claim_duration_seconds',
      help: 'The claim query round trip (the latency the claim adds before handling)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
      registers,
    });
    this.claims = { results, latency };
    return { claim: (result, latencyMs) => this.claim(result, latencyMs) };
  }

  /** The cluster's state, read at each scrape: peers, the database's health; the instance names as labels of one info gauge. */
  watchCluster(status: () => ClusterStatus): void {
    const registers = [this.registry];
    new Gauge({
      name: 'toodles_cluster_info',
      help: 'This instance, the preferred instance and the database target (always 1)',
      labelNames: ['instance', 'preferred_instance', 'database'],
      registers,
      collect() {
        const s = status();
        this.reset();
        this.set({ instance: s.instance, preferred_instance: s.preferredInstance, database: s.database.target }, 1);
      },
    });
    new Gauge({
      name: 'toodles_cluster_peers',
      help: 'Other instances seen through the database in the last 30 s',
      registers,
      collect() {
        this.set(status().peers.length);
      },
    });
    new Gauge({
      name: 'toodles_database_up',
      help: 'The shared database answers (1) or not (0)',
      registers,
      collect() {
        this.set(status().database.health === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'toodles_database_queries',
      help: 'Queries sent to the shared database since start',
      registers,
      collect() {
        this.set(status().database.queries);
      },
    });
  }

  private claim(result: ClaimResult, latencyMs?: number): void {
    this.claims?.results.inc({ result });
    if (latencyMs !== undefined) this.claims?.latency.observe(latencyMs / 1000);
  }

  /** A catch-up round ended (CatchUp's onRound, once per round). A failed round counts no messages: it has no totals. */
  catchUpRound(r: CatchUpSummary): void {
    this.catchUp.rounds.inc({ outcome: r.outcome });
    for (const [outcome, count] of Object.entries(CATCHUP_MESSAGES)) this.catchUp.messages.inc({ outcome }, r[count] ?? 0);
    this.catchUp.leftOver.inc(r.leftOver ?? 0);
    this.catchUp.requests.inc(r.requests ?? 0);
    this.catchUp.lastDuration.set(r.durationMs / 1000);
  }

  reconnect(r: ReconnectRecord): void {
    this.reconnects.inc({ kind: r.kind });
    this.reconnectDuration.observe(r.durationMs / 1000);
    this.deaf.inc(r.deafMs / 1000);
  }

  activity(kind: 'message' | 'cardAction'): void {
    (kind === 'message' ? this.messages : this.cardSubmits).inc();
  }

  command(name: string, durationMs: number, ok: boolean): void {
    this.commandDuration.observe({ command: name }, durationMs / 1000);
    if (!ok) this.commandFailures.inc({ command: name });
  }

  restRetry(status: string): void {
    this.restRetries.inc({ status });
  }

  watchdogPing(at: number): void {
    this.watchdog.set(at / 1000);
  }

  canary(r: CanaryRecord, consecutiveFailures: number): void {
    this.canaryRuns.inc({ result: r.ok ? 'ok' : 'failed' });
    if (r.ok) {
      this.canaryLastOk.set(r.at / 1000);
      if (r.roundTripMs !== undefined) this.canaryRoundTrip.set(r.roundTripMs / 1000);
    } else {
      this.canaryFailures.inc({ stage: r.stage ?? 'unknown' });
    }
    this.canaryConsecutive.set(consecutiveFailures);
  }

  heal(action: HealAction): void {
    this.heals.inc({ action });
  }
}
