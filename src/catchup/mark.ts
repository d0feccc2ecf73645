import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeAtomically } from '../util/atomic-write.js';
import { errorText } from '../util/error-text.js';

export const MARK_FILE = 'heard-through.json';
/** While online the mark moves with every sign of life, but reaches the disk at most this often. */
export const MARK_WRITE_EVERY_MS = 5_000;

export interface HeardMarkOptions {
  /** Where the mark is kept across restarts; none: in memory only (no start-up catch-up). */
  stateDir?: string;
  log: Logger;
  now?: () => number;
}

/**
 * The "heard through" mark: the last moment the bot was certainly listening (its receiving socket
 * heard from Webex). The next process starts its catch-up from it. A file that cannot be read as a
 * mark (torn, empty, garbage) counts as none: nothing is answered from history rather than too much.
 */
export class HeardMark {
  /** The mark this process found at start; undefined on a first start. */
  readonly previous?: number;
  private at?: number;
  private writtenAt?: number;
  private writeFailing = false;
  private readonly file?: string;
  private readonly now: () => number;

  constructor(private readonly opts: HeardMarkOptions) {
    this.now = opts.now ?? Date.now;
    this.file = opts.stateDir === undefined ? undefined : join(opts.stateDir, MARK_FILE);
    this.previous = this.file === undefined ? undefined : this.load(this.file);
    this.at = this.previous;
  }

  /** The latest mark (in memory, possibly ahead of the file). */
  current(): number | undefined {
    return this.at;
  }

  /** The bot was listening at `heardAt`: never moves the mark back, and writes at most every few seconds. */
  advance(heardAt: number): void {
    if (this.at !== undefined && heardAt <= this.at) return;
    this.at = heardAt;
    const now = this.now();
    if (this.file === undefined || (this.writtenAt !== undefined && now - this.writtenAt < MARK_WRITE_EVERY_MS)) return;
    this.writtenAt = now;
    this.write(this.file, heardAt);
  }

  private load(file: string): number | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.unreadable(file, errorText(err));
      return undefined; // a first start
    }
    let at: unknown;
    try {
      at = (JSON.parse(text) as { heardThroughMs?: unknown }).heardThroughMs;
    } catch (err) {
      return this.unreadable(file, errorText(err));
    }
    if (typeof at !== 'number' || !Number.isFinite(at) || at <= 0) return this.unreadable(file, 'no heardThroughMs in it');
    const now = this.now();
    if (at <= now) return at;
    // The clock went back (or the file came from a machine ahead of this one): no gap can start in the future.
    this.opts.log.warn({ event: 'catchup.mark_ahead', file, mark: new Date(at).toISOString(), aheadMs: at - now });
    return now;
  }

  private unreadable(file: string, err: string): undefined {
    this.opts.log.warn({ event: 'catchup.mark_unreadable', file, err });
    return undefined;
  }

  private write(file: string, at: number): void {
    try {
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
      writeAtomically(file, `${JSON.stringify({ heardThroughMs: at, heardThrough: new Date(at).toISOString() })}\n`);
      this.writeFailing = false;
    } catch (err) {
      // Once per failing spell: a full disk would fail every write. The next start then finds an older mark, and catches up more.
      if (!this.writeFailing) this.opts.log.warn({ event: 'catchup.mark_write_failed', file, err: errorText(err) });
      this.writeFailing = true;
    }
  }
}
