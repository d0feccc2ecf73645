import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { errorText } from '../util/error-text.js';
import {
  StorageUnavailableError,
  type ActivityQuery,
  type ActivityRecord,
  type NewTestingEntry,
  type Storage,
  type Submission,
  type TestingEntry,
} from './types.js';

export const DB_FILE = 'toodles.db';

export interface SqliteOptions {
  /** The state directory; unset keeps everything in memory for this run only. */
  dir?: string;
  log: Logger;
  readonly?: boolean;
  /** After a failed open, the next attempt waits this long (a command never waits for it). */
  reopenAfterMs?: number;
  now?: () => number;
}

// Each step brings a database from the previous version to the next; user_version counts them.
const MIGRATIONS = [
  `CREATE TABLE activity (
     at INTEGER NOT NULL, person_email TEXT NOT NULL, room_id TEXT NOT NULL, command TEXT NOT NULL,
     kind TEXT NOT NULL, outcome TEXT NOT NULL, duration_ms INTEGER NOT NULL, ref TEXT NOT NULL);
   CREATE INDEX activity_at ON activity(at);
   CREATE TABLE submissions (
     card_message_id TEXT PRIMARY KEY, command TEXT NOT NULL, recorded_as TEXT NOT NULL,
     by_name TEXT NOT NULL, at INTEGER NOT NULL, room_id TEXT NOT NULL, room_type TEXT NOT NULL, thread_id TEXT);
   CREATE TABLE testing (
     number INTEGER PRIMARY KEY AUTOINCREMENT, tester TEXT NOT NULL, targets TEXT NOT NULL,
     what TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL, ticket TEXT,
     created_by_email TEXT NOT NULL, created_by_name TEXT NOT NULL, created_at INTEGER NOT NULL,
     ended_early_at INTEGER, ended_by TEXT);`,
];

/**
 * SQLite in WAL mode. A committed record is in the WAL file (the kernel's page cache) before the call
 * returns, so it survives a kill -9; synchronous=NORMAL skips the fsync per commit (2 ms each here,
 * on the event loop), at the price of the last records before a power loss. Calls are synchronous
 * and short; a lock held elsewhere is waited for at most 200 ms, then the call fails rather than
 * stall the bot.
 */
export class SqliteStorage implements Storage {
  private db?: Database.Database;
  private nextOpenAt = 0;
  private readonly now: () => number;

  constructor(private readonly opts: SqliteOptions) {
    this.now = opts.now ?? Date.now;
  }

  recordActivity(r: ActivityRecord): void {
    try {
      this.use().prepare(
        'INSERT INTO activity (at, person_email, room_id, command, kind, outcome, duration_ms, ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(r.at, r.personEmail, r.roomId, r.command, r.kind, r.outcome, r.durationMs, r.ref);
    } catch (err) {
      this.opts.log.error({ event: 'storage.failed', op: 'record activity', ref: r.ref, err: errorText(err) });
    }
  }

  activity(q: ActivityQuery): ActivityRecord[] {
    const rows = this.use()
      .prepare(
        `SELECT at, person_email, room_id, command, kind, outcome, duration_ms, ref FROM activity
         WHERE at >= ? AND (? IS NULL OR person_email = ? COLLATE NOCASE) AND (? IS NULL OR command = ?)
         ORDER BY at, rowid`,
      )
      .all(q.since ?? 0, q.personEmail ?? null, q.personEmail ?? null, q.command ?? null, q.command ?? null) as ActivityRow[];
    return rows.map((row) => ({
      at: row.at,
      personEmail: row.person_email,
      roomId: row.room_id,
      command: row.command,
      kind: row.kind,
      outcome: row.outcome,
      durationMs: row.duration_ms,
      ref: row.ref,
    }));
  }

  pruneActivity(before: number): number {
    return this.use().prepare('DELETE FROM activity WHERE at < ?').run(before).changes;
  }

  submission(cardMessageId: string): Submission | undefined {
    const row = this.use().prepare('SELECT * FROM submissions WHERE card_message_id = ?').get(cardMessageId) as SubmissionRow | undefined;
    return (
      row && {
        cardMessageId: row.card_message_id,
        command: row.command,
        recordedAs: row.recorded_as,
        byName: row.by_name,
        at: row.at,
        roomId: row.room_id,
        roomType: row.room_type,
        ...(row.thread_id ? { threadId: row.thread_id } : {}),
      }
    );
  }

  recordSubmission(s: Submission): void {
    this.use()
      .prepare(
        `INSERT OR IGNORE INTO submissions (card_message_id, command, recorded_as, by_name, at, room_id, room_type, thread_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.cardMessageId, s.command, s.recordedAs, s.byName, s.at, s.roomId, s.roomType, s.threadId ?? null);
  }

  addTestingEntry(e: NewTestingEntry): TestingEntry {
    const { lastInsertRowid } = this.use()
      .prepare(
        `INSERT INTO testing (tester, targets, what, starts_at, ends_at, ticket, created_by_email, created_by_name, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.tester, JSON.stringify(e.targets), e.what, e.startsAt, e.endsAt, e.ticket ?? null, e.createdByEmail, e.createdByName, e.createdAt);
    return { ...e, number: Number(lastInsertRowid) };
  }

  testingEntry(number: number): TestingEntry | undefined {
    const row = this.use().prepare('SELECT * FROM testing WHERE number = ?').get(number) as TestingRow | undefined;
    return row && toEntry(row);
  }

  testingEntriesOpenAt(at: number): TestingEntry[] {
    const rows = this.use()
      .prepare('SELECT * FROM testing WHERE ends_at > ? AND ended_early_at IS NULL ORDER BY starts_at, number')
      .all(at) as TestingRow[];
    return rows.map(toEntry);
  }

  endTestingEntry(number: number, at: number, byEmail: string): void {
    this.use().prepare('UPDATE testing SET ended_early_at = ?, ended_by = ? WHERE number = ? AND ended_early_at IS NULL').run(at, byEmail, number);
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
  }

  /** The open database; opens it on first use, and again after a failure once a short pause has passed. */
  private use(): Database.Database {
    if (this.db) return this.db;
    if (this.now() < this.nextOpenAt) throw new StorageUnavailableError('not open (an earlier attempt failed)');
    try {
      this.db = this.open();
      return this.db;
    } catch (err) {
      this.nextOpenAt = this.now() + (this.opts.reopenAfterMs ?? 10_000);
      this.opts.log.error({ event: 'storage.open_failed', dir: this.opts.dir, err: errorText(err) });
      throw new StorageUnavailableError(err);
    }
  }

  private open(): Database.Database {
    const { dir, readonly = false } = this.opts;
    if (dir && !readonly) mkdirSync(dir, { recursive: true });
    const db = new Database(dir ? join(dir, DB_FILE) : ':memory:', { readonly, fileMustExist: readonly, timeout: 200 });
    try {
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        const version = db.pragma('user_version', { simple: true }) as number;
        for (const [i, step] of MIGRATIONS.entries()) {
          if (i < version) continue;
          db.transaction(() => {
            db.exec(step);
            db.pragma(`user_version = ${i + 1}`);
          })();
        }
      }
    } catch (err) {
      db.close();
      throw err;
    }
    this.opts.log.info({ event: 'storage.open', dir: dir ?? null, readonly });
    return db;
  }
}

interface ActivityRow {
  at: number;
  person_email: string;
  room_id: string;
  command: string;
  kind: ActivityRecord['kind'];
  outcome: ActivityRecord['outcome'];
  duration_ms: number;
  ref: string;
}

interface SubmissionRow {
  card_message_id: string;
  command: string;
  recorded_as: string;
  by_name: string;
  at: number;
  room_id: string;
  room_type: 'direct' | 'group';
  thread_id: string | null;
}

interface TestingRow {
  number: number;
  tester: string;
  targets: string;
  what: string;
  starts_at: number;
  ends_at: number;
  ticket: string | null;
  created_by_email: string;
  created_by_name: string;
  created_at: number;
  ended_early_at: number | null;
  ended_by: string | null;
}

function toEntry(r: TestingRow): TestingEntry {
  return {
    number: r.number,
    tester: r.tester,
    targets: JSON.parse(r.targets) as string[],
    what: r.what,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    ...(r.ticket ? { ticket: r.ticket } : {}),
    createdByEmail: r.created_by_email,
    createdByName: r.created_by_name,
    createdAt: r.created_at,
    ...(r.ended_early_at !== null ? { endedEarlyAt: r.ended_early_at, endedBy: r.ended_by ?? '' } : {}),
  };
}
