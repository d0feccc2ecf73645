import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../util/atomic-write.js';
import { errorText } from '../util/error-text.js';

/** How saving the record is going: sent on the first failure, at most once a period while failing, and on recovery. */
export interface PersistenceReport {
  ok: boolean;
  /** The last write error, while failing. */
  err?: string;
  /** Writes that failed since the previous report. */
  failures: number;
}

export interface SeenOptions {
  /** How long an id is remembered; Webex re-delivers un-acked activities up to ~15 minutes back. */
  ttlMs: number;
  /** Hard cap on remembered ids, so a flood cannot grow memory without bound. */
  maxEntries: number;
  /** When set, ids survive a restart (Webex re-delivers after one too). */
  stateDir?: string;
  now?: () => number;
  /** Told when writing the record fails or works again; the in-memory record goes on either way. */
  onPersistence?: (report: PersistenceReport) => void;
  /** While writes keep failing, at most one report per this period (a full disk fails every message). */
  reportEveryMs?: number;
}

export const DEFAULT_SEEN: Omit<SeenOptions, 'stateDir'> = { ttlMs: 30 * 60_000, maxEntries: 50_000, reportEveryMs: 60_000 };

/**
 * The record of activities already taken for handling, so a message delivered twice (two sockets
 * during a graceful reconnect, or a re-delivery after a restart) is answered once. Append-only file,
 * compacted when it holds twice what is live. A write that fails (full disk, read-only directory)
 * never stops the bot: the record lives on in memory and the failure is reported, rate-limited.
 */
export class SeenActivities {
  private readonly seen = new Map<string, number>();
  private readonly file?: string;
  private linesInFile = 0;
  private readonly now: () => number;
  private failing?: { failures: number; reportedAt: number };

  constructor(private readonly opts: SeenOptions) {
    this.now = opts.now ?? Date.now;
    if (opts.stateDir) {
      const dir = opts.stateDir;
      this.file = join(dir, 'seen-activities.log');
      this.persist(() => mkdirSync(dir, { recursive: true }));
      this.load(this.file);
    }
  }

  get size(): number {
    return this.seen.size;
  }

  /** True while the last write of the record failed. */
  get degraded(): boolean {
    return this.failing !== undefined;
  }

  /** True the first time an id is offered, false on every later offer within the ttl. */
  firstSighting(id: string): boolean {
    this.expire();
    if (this.seen.has(id)) return false;
    const at = this.now();
    this.seen.set(id, at);
    if (this.seen.size > this.opts.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    const file = this.file;
    if (file) {
      // After a failure the file misses ids: rewrite it whole rather than append to a gap.
      if (this.failing || ++this.linesInFile > 2 * Math.max(this.seen.size, 1000)) this.compact(file);
      else this.persist(() => appendFileSync(file, `${id}\t${at}\n`));
    }
    return true;
  }

  private expire(): void {
    const cutoff = this.now() - this.opts.ttlMs;
    for (const [id, at] of this.seen) {
      if (at >= cutoff) break; // insertion order is time order
      this.seen.delete(id);
    }
  }

  private load(file: string): void {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // first start: nothing seen yet
    }
    const cutoff = this.now() - this.opts.ttlMs;
    for (const line of text.split('\n')) {
      const [id, at] = line.split('\t');
      const when = Number(at);
      if (id && Number.isFinite(when) && when >= cutoff) this.seen.set(id, when);
    }
    this.compact(file);
  }

  private compact(file: string): void {
    this.persist(() => {
      writeAtomically(file, [...this.seen].map(([id, at]) => `${id}\t${at}\n`).join(''));
      this.linesInFile = this.seen.size;
    });
  }

  private persist(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.writeFailed(err);
      return;
    }
    if (this.failing) {
      this.failing = undefined;
      this.opts.onPersistence?.({ ok: true, failures: 0 });
    }
  }

  private writeFailed(err: unknown): void {
    const now = this.now();
    const every = this.opts.reportEveryMs ?? 0;
    const first = !this.failing;
    const failing = (this.failing ??= { failures: 0, reportedAt: now });
    failing.failures += 1;
    if (first || now - failing.reportedAt >= every) {
      this.opts.onPersistence?.({ ok: false, err: errorText(err), failures: failing.failures });
      failing.failures = 0;
      failing.reportedAt = now;
    }
  }
}
