import type { HeardMark } from './mark.js';

/** Why the bot may have missed messages. */
export type GapCause = 'restart' | 'reconnect' | 'new device';

/** A time the bot may not have heard what people sent: to be caught up on. */
export interface Gap {
  /** When it stopped hearing for sure (the mark, the start of the deaf time, the last delivery). */
  from: number;
  /** When it was listening again. */
  to: number;
  causes: GapCause[];
  /** Rounds that failed on this gap so far. */
  failures: number;
}

/** The time a message was sent fell in this gap: what a late answer says. */
export interface OfflinePeriod {
  from: number;
  to: number;
}

export interface GapsOptions {
  mark: HeardMark;
  /** Catch-up is off at 0: nothing is ever owed. */
  maxAgeMs: number;
  now?: () => number;
}

/** Listing starts this long before a gap: the moment the bot stopped hearing is known only to a few seconds. */
export const OVERLAP_MS = 10_000;
/** Webex's clock and ours may disagree by this much. */
const CLOCK_SLACK_MS = 60_000;
/** A gap whose rounds failed this often is given up (and said so), so the mark moves on. */
export const MAX_ROUND_FAILURES = 3;
/** Periods kept for late answers; older ones are past the max age anyway. */
const KEEP_PERIODS = 20;

/**
 * How long an answered id must be remembered (the de-duplication record, the cluster's claims), at
 * least `floorMs`: a caught-up message may be as old as the max age and the overlap, and one
 * forgotten sooner would be answered again by a later round.
 */
export function rememberForMs(maxAgeMs: number, floorMs: number): number {
  return Math.max(floorMs, maxAgeMs + OVERLAP_MS + CLOCK_SLACK_MS);
}

/**
 * What the bot may have missed, and since when it has certainly been listening. Fed by the
 * connection (first online, reconnects, new device registrations, deliveries) and read by the
 * catch-up rounds and the dispatcher's late line. While a gap is owed or being caught up on, the
 * mark stays where it was: a process killed meanwhile starts its own catch-up from there.
 */
export class Gaps {
  private owed?: Gap;
  private inRound?: Gap;
  /** A gap since the previous process's mark, once this one is online. */
  private startPending: boolean;
  private newDevice = false;
  private lastDeliveryAt?: number;
  private readonly periods: OfflinePeriod[] = [];
  private readonly now: () => number;

  constructor(private readonly opts: GapsOptions) {
    this.now = opts.now ?? Date.now;
    this.startPending = opts.mark.previous !== undefined;
  }

  /** Online for the first time in this process: the gap since the previous process's mark. */
  online(): void {
    const now = this.now();
    this.lastDeliveryAt ??= now;
    const previous = this.opts.mark.previous;
    if (this.startPending && previous !== undefined) this.add({ from: previous, to: now, causes: ['restart'], failures: 0 });
    this.startPending = false;
    this.newDeviceGap(now);
    // Listening from now on: a new device before the first ping still finds a mark to catch up from.
    if (!this.owed) this.opts.mark.advance(now);
  }

  /**
   * Online again after a reconnect. A graceful one (make before break) is no gap, unless the current
   * socket died before the next one was online (deaf time). Any other lost a socket, and with it
   * whatever was on its way (Webex does not send it again), however short the deaf time: the listing
   * starts the overlap before it.
   */
  reconnected(r: { graceful: boolean; deafMs: number }): void {
    const now = this.now();
    if (!r.graceful || r.deafMs > 0) this.add({ from: now - r.deafMs, to: now, causes: ['reconnect'], failures: 0 });
    this.newDeviceGap(now);
  }

  /**
   * A new device's socket is online: the old device may have been deaf while its socket looked fine,
   * since it last delivered anything (or the mark, if older), within the max age. No mark yet: a
   * first start, which answers no history.
   */
  private newDeviceGap(now: number): void {
    if (!this.newDevice) return;
    this.newDevice = false;
    const mark = this.opts.mark.current();
    if (mark === undefined) return;
    const since = Math.max(Math.min(this.lastDeliveryAt ?? now, mark), now - this.opts.maxAgeMs);
    if (since < now) this.add({ from: since, to: now, causes: ['new device'], failures: 0 });
  }

  /** A device was registered anew (not refreshed): caught up on once a socket on it is online. */
  registeredNewDevice(): void {
    this.newDevice = true;
  }

  /** A socket delivered an activity. */
  delivered(): void {
    this.lastDeliveryAt = this.now();
  }

  /** The receiving socket was last heard from at `heardAt`: the mark follows unless a gap is still to be caught up on. */
  heard(heardAt: number | undefined): void {
    if (heardAt === undefined || this.owed || this.inRound || this.startPending || this.newDevice) return;
    this.opts.mark.advance(heardAt);
  }

  /** The gap the next round covers (every gap owed, merged); undefined when none is. */
  take(): Gap | undefined {
    if (this.inRound) return undefined;
    this.inRound = this.owed;
    this.owed = undefined;
    return this.inRound;
  }

  /** The round on `gap` ended: a failed one is owed again until it has failed too often (then false: given up). */
  settled(gap: Gap, ok: boolean): boolean {
    this.inRound = undefined;
    if (ok) return true;
    const failures = gap.failures + 1;
    if (failures >= MAX_ROUND_FAILURES) return false;
    this.owed = merge(this.owed, { ...gap, failures });
    return true;
  }

  /** Whether a gap waits for a round. */
  get owes(): boolean {
    return this.owed !== undefined;
  }

  /** The known gap a message sent at `sentAt` fell in (allowing for the overlap before it). */
  offlineAt(sentAt: number): OfflinePeriod | undefined {
    return this.periods.find((p) => p.from - OVERLAP_MS <= sentAt && sentAt <= p.to);
  }

  private add(gap: Gap): void {
    if (this.opts.maxAgeMs === 0 || gap.to < gap.from) return;
    this.owed = merge(this.owed, gap);
    // One offline time however many causes found it (a restart onto a new device is both).
    const overlapping = this.periods.filter((p) => p.from <= gap.to && gap.from <= p.to);
    const period = overlapping.reduce((a, p) => ({ from: Math.min(a.from, p.from), to: Math.max(a.to, p.to) }), {
      from: gap.from,
      to: gap.to,
    });
    this.periods.splice(0, this.periods.length, ...this.periods.filter((p) => !overlapping.includes(p)), period);
    if (this.periods.length > KEEP_PERIODS) this.periods.shift();
  }
}

function merge(a: Gap | undefined, b: Gap): Gap {
  if (!a) return b;
  return {
    from: Math.min(a.from, b.from),
    to: Math.max(a.to, b.to),
    causes: [...new Set([...a.causes, ...b.causes])],
    failures: Math.max(a.failures, b.failures),
  };
}
