/**
 * The daemon's running totals, fed by the parts that produce them through small hooks (supervisor,
 * dispatcher, link, watchdog, control socket) and read by `toodles status`. When metrics are on, the
 * same calls are forwarded to a sink (src/metrics/) so both views always agree.
 */

export type ReconnectKind = 'graceful' | 'fault';
export type HealAction = 'rebuild' | 'restart';
/** Where a canary run failed; a bounded set, because it is a metric label. */
// local: the bot answered, but this instance never heard the ping (a peer answered for it).
export const CANARY_STAGES = ['daemon', 'send', 'no_reply', 'wrong_reply', 'local'] as const;
export type CanaryStage = (typeof CANARY_STAGES)[number];

export interface ReconnectRecord {
  at: number;
  kind: ReconnectKind;
  reason?: string;
  durationMs: number;
  deafMs: number;
}

export interface CanaryRecord {
  at: number;
  ok: boolean;
  stage?: CanaryStage;
  roundTripMs?: number;
}

export interface HealRecord {
  at: number;
  action: HealAction;
  reason: string;
}

/** What the metrics module does with each observation. */
export interface StatsSink {
  reconnect(r: ReconnectRecord): void;
  activity(kind: 'message' | 'cardAction'): void;
  command(name: string, durationMs: number, ok: boolean): void;
  restRetry(status: string): void;
  watchdogPing(at: number): void;
  canary(r: CanaryRecord, consecutiveFailures: number): void;
  heal(action: HealAction): void;
}

export interface StatsSnapshot {
  reconnects: Record<ReconnectKind, number>;
  lastReconnect?: ReconnectRecord;
  deafMsTotal: number;
  messages: number;
  cardSubmits: number;
  commandFailures: number;
  lastMessageAt?: number;
  lastCommand?: { name: string; at: number; ok: boolean };
  watchdogLastPingAt?: number;
  device?: { url?: string; reused: boolean; at: number };
  canary: { last?: CanaryRecord; lastOkAt?: number; consecutiveFailures: number };
  lastHeal?: HealRecord;
}

export class DaemonStats {
  private readonly s: StatsSnapshot = {
    reconnects: { graceful: 0, fault: 0 },
    deafMsTotal: 0,
    messages: 0,
    cardSubmits: 0,
    commandFailures: 0,
    canary: { consecutiveFailures: 0 },
  };

  constructor(
    private readonly sink?: StatsSink,
    private readonly now: () => number = Date.now,
  ) {}

  snapshot(): StatsSnapshot {
    return structuredClone(this.s);
  }

  reconnected(r: { graceful: boolean; reason?: string; durationMs: number; deafMs: number }): void {
    const record: ReconnectRecord = {
      at: this.now(),
      kind: r.graceful ? 'graceful' : 'fault',
      reason: r.reason,
      durationMs: r.durationMs,
      deafMs: r.deafMs,
    };
    this.s.reconnects[record.kind] += 1;
    this.s.deafMsTotal += r.deafMs;
    this.s.lastReconnect = record;
    this.sink?.reconnect(record);
  }

  /** A message or card submit from someone else reached the bot. */
  activity(kind: 'message' | 'cardAction'): void {
    if (kind === 'message') {
      this.s.messages += 1;
      this.s.lastMessageAt = this.now();
    } else {
      this.s.cardSubmits += 1;
    }
    this.sink?.activity(kind);
  }

  command(name: string, durationMs: number, ok: boolean): void {
    if (!ok) this.s.commandFailures += 1;
    this.s.lastCommand = { name, at: this.now(), ok };
    this.sink?.command(name, durationMs, ok);
  }

  /** `status` is the HTTP status Webex answered, undefined for a network error. */
  restRetry(status: number | undefined): void {
    this.sink?.restRetry(status ? String(status) : 'network');
  }

  watchdogPing(): void {
    this.s.watchdogLastPingAt = this.now();
    this.sink?.watchdogPing(this.s.watchdogLastPingAt);
  }

  device(d: { url?: string; reused: boolean }): void {
    this.s.device = { ...d, at: this.now() };
  }

  /** Records a canary run; returns how many runs in a row have failed (the canary heals on it). */
  canary(r: { ok: boolean; stage?: CanaryStage; roundTripMs?: number }): number {
    const record: CanaryRecord = { at: this.now(), ...r };
    const c = this.s.canary;
    c.last = record;
    c.consecutiveFailures = r.ok ? 0 : c.consecutiveFailures + 1;
    if (r.ok) c.lastOkAt = record.at;
    this.sink?.canary(record, c.consecutiveFailures);
    return c.consecutiveFailures;
  }

  heal(action: HealAction, reason: string): void {
    this.s.lastHeal = { at: this.now(), action, reason };
    this.sink?.heal(action);
  }
}
