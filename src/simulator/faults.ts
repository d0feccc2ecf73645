/**
 * Fault switches. rest.ts and mercury.ts consult this state on every request / frame;
 * one-shot socket actions (kill, close, malformed frame) are carried out by mercury.ts.
 * Everything can be flipped at run time and reset with clear().
 */

export interface RestFaultRule {
  id: number;
  /** Substring of the request path, or a RegExp source when it starts with '^'. */
  path: string;
  method?: string;
  /** Fail with this status (404, 429, 500, 503, ...). */
  status?: number;
  /** For 429/503: the Retry-After header, in seconds. */
  retryAfterSec?: number;
  /** Delay the response by this many ms (the request is served normally afterwards unless status is set). */
  delayMs?: number;
  /** How many matching requests to affect; unlimited when absent. */
  remaining?: number;
}

/**
 * What happens to an event a device's sockets did not take: 'none' (Webex as a bot must assume it:
 * an event reaches only the sockets online when it is sent) or 'queue' (un-acked events are kept per
 * device and sent again on its next socket).
 */
export type Redelivery = 'none' | 'queue';

export type MalformedKind =
  | 'not-json' // garbage text: the SDK logs a parse warning and drops it
  | 'no-id' // valid event without envelope id: the SDK's ack rejects unhandled (process exits on Node 20)
  | 'no-data' // envelope without data: the SDK's handler throws, caught and logged
  | 'unknown-event' // an eventType nobody handles
  | 'binary'; // a binary frame

export class FaultState {
  /** Mercury: what becomes of events no socket took; clear() returns to the simulator's start option. */
  redelivery: Redelivery;
  /** Mercury: answer no pings and deliver no events (under 'queue' they wait as un-acked). */
  silent = false;
  /** Mercury: stop reading every socket (TCP paused): pings and acks pile up unread. */
  notReading = false;
  /** Mercury: accept sockets and the authorization frame but never send buffer_state. */
  withholdBufferState = false;
  /** Mercury: upgrade requests are read and never answered (a zombie server: new sockets hang). */
  hangUpgrades = false;
  /** The network path: new TCP connections are accepted and never read or answered (REST and upgrades hang). */
  blackhole = false;
  /** Mercury upgrades answered with this HTTP status until the deadline / count runs out. */
  refuseUpgrades?: { status: number; until?: number; remaining?: number };
  /** New socket on a device replaces its other sockets (close 4000) even with multipleConnections=true. */
  replaceOnNewConnection = false;
  /** WDM register fails with "User has excessive device registrations" (always, or at >= limit active devices). */
  excessiveRegistrations?: { limit?: number };
  /** Devices Webex has gone deaf to: pings answered, events never delivered (not even queued) until a new device registers. */
  readonly deafDevices = new Set<string>();
  readonly rest: RestFaultRule[] = [];
  private nextRuleId = 1;

  constructor(private readonly startRedelivery: Redelivery) {
    this.redelivery = startRedelivery;
  }

  addRestRule(r: Omit<RestFaultRule, 'id'>): number {
    const id = this.nextRuleId++;
    this.rest.push({ ...r, id });
    return id;
  }

  /** Find the first rule for this request and consume one use of it. */
  takeRestRule(method: string, path: string): RestFaultRule | undefined {
    const i = this.rest.findIndex(
      (r) =>
        (!r.method || r.method.toUpperCase() === method) &&
        (r.path.startsWith('^') ? new RegExp(r.path).test(path) : path.includes(r.path)),
    );
    if (i < 0) return undefined;
    const rule = this.rest[i]!;
    if (rule.remaining !== undefined && --rule.remaining <= 0) this.rest.splice(i, 1);
    return rule;
  }

  /** Should this upgrade be refused? Consumes one use when count-limited. */
  takeUpgradeRefusal(): number | undefined {
    const r = this.refuseUpgrades;
    if (!r) return undefined;
    if (r.until !== undefined && Date.now() >= r.until) {
      this.refuseUpgrades = undefined;
      return undefined;
    }
    if (r.remaining !== undefined && --r.remaining <= 0) this.refuseUpgrades = undefined;
    return r.status;
  }

  clear(): void {
    this.redelivery = this.startRedelivery;
    this.silent = false;
    this.notReading = false;
    this.withholdBufferState = false;
    this.hangUpgrades = false;
    this.blackhole = false;
    this.refuseUpgrades = undefined;
    this.replaceOnNewConnection = false;
    this.excessiveRegistrations = undefined;
    this.deafDevices.clear();
    this.rest.length = 0;
  }

  snapshot(): Record<string, unknown> {
    return {
      redelivery: this.redelivery,
      silent: this.silent,
      notReading: this.notReading,
      withholdBufferState: this.withholdBufferState,
      hangUpgrades: this.hangUpgrades,
      blackhole: this.blackhole,
      refuseUpgrades: this.refuseUpgrades ?? null,
      replaceOnNewConnection: this.replaceOnNewConnection,
      excessiveRegistrations: this.excessiveRegistrations ?? null,
      deafDevices: [...this.deafDevices],
      rest: this.rest,
    };
  }
}
