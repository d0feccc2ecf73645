import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SeenOptions {
  /** How long an id is remembered; Webex re-delivers un-acked activities up to ~15 minutes back. */
  ttlMs: number;
  /** Hard cap on remembered ids, so a flood cannot grow memory without bound. */
  maxEntries: number;
  /** When set, ids survive a restart (Webex re-delivers after one too). */
  stateDir?: string;
  now?: () => number;
}

export const DEFAULT_SEEN: Omit<SeenOptions, 'stateDir'> = { ttlMs: 30 * 60_000, maxEntries: 50_000 };

/**
 * The record of activities already taken for handling, so a message delivered twice (two sockets
 * during a graceful reconnect, or a re-delivery after a restart) is answered once. Append-only file,
 * compacted when it holds twice what is live.
 */
export class SeenActivities {
  private readonly seen = new Map<string, number>();
  private readonly file?: string;
  private linesInFile = 0;
  private readonly now: () => number;

  constructor(private readonly opts: SeenOptions) {
    this.now = opts.now ?? Date.now;
    if (opts.stateDir) {
      mkdirSync(opts.stateDir, { recursive: true });
      this.file = join(opts.stateDir, 'seen-activities.log');
      this.load(this.file);
    }
  }

  get size(): number {
    return this.seen.size;
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
    if (this.file) {
      appendFileSync(this.file, `${id}\t${at}\n`);
      if (++this.linesInFile > 2 * Math.max(this.seen.size, 1000)) this.compact(this.file);
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
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, [...this.seen].map(([id, at]) => `${id}\t${at}\n`).join(''));
    renameSync(tmp, file);
    this.linesInFile = this.seen.size;
  }
}
