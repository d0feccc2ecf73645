import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { errorText } from '../util/error-text.js';
import { DB_FILE } from './index.js';
import { toActivity, toEntry, toSubmission, type ActivityRow, type SubmissionRow, type TestingRow } from './rows.js';
import {
  StorageUnavailableError,
  type ActivityQuery,
  type ActivityRecord,
  type KvEntry,
  type NewTestingEntry,
  type Storage,
  type Submission,
  type TestingEntry,
} from './types.js';

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
  // recorded_as may be NULL: a submit that claimed its card and is still running (SQLite cannot drop NOT NULL in place).
  `CREATE TABLE submissions_new (
     card_message_id TEXT PRIMARY KEY, command TEXT NOT NULL, recorded_as TEXT,
     by_name TEXT NOT NULL, at INTEGER NOT NULL, room_id TEXT NOT NULL, room_type TEXT NOT NULL, thread_id TEXT);
   INSERT INTO submissions_new SELECT * FROM submissions;
   DROP TABLE submissions;
   ALTER TABLE submissions_new RENAME TO submissions;`,
  `CREATE TABLE command_kv (
     namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
     PRIMARY KEY (namespace, key)) WITHOUT ROWID;`,
];

/**
 * SQLite in WAL mode. A committed record is in the WAL file (the kernel's page cache) before the call
 * returns, so it survives a kill -9; synchronous=NORMAL skips the fsync per commit (2 ms each here,
 * on the event loop), at the price of the last records before a power loss. Calls run synchronously
 * (their promises are settled when they return) and are short; a lock held elsewhere is waited for at most 200 ms, then the call fails rather than
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
      this.use()
        .prepare(
          'INSERT INTO activity (at, person_email, room_id, command, kind, outcome, duration_ms, ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(r.at, r.personEmail, r.roomId, r.command, r.kind, r.outcome, r.durationMs, r.ref);
    } catch (err) {
      this.opts.log.error({ event: 'storage.failed', op: 'record activity', ref: r.ref, err: errorText(err) });
    }
  }

  async activity(q: ActivityQuery): Promise<ActivityRecord[]> {
    const rows = this.use()
      .prepare(
        `SELECT at, person_email, room_id, command, kind, outcome, duration_ms, ref FROM activity
         WHERE at >= ? AND (? IS NULL OR person_email = ? COLLATE NOCASE) AND (? IS NULL OR command = ?)
         ORDER BY at, rowid`,
      )
      .all(q.since ?? 0, q.personEmail ?? null, q.personEmail ?? null, q.command ?? null, q.command ?? null) as ActivityRow[];
    return rows.map(toActivity);
  }

  async pruneActivity(before: number): Promise<number> {
    return this.use().prepare('DELETE FROM activity WHERE at < ?').run(before).changes;
  }

  async submission(cardMessageId: string): Promise<Submission | undefined> {
    const row = this.use().prepare('SELECT * FROM submissions WHERE card_message_id = ?').get(cardMessageId) as SubmissionRow | undefined;
    return row && toSubmission(row);
  }

  async claimSubmission(s: Omit<Submission, 'recordedAs'>, staleBefore: number): Promise<boolean> {
    const { changes } = this.use()
      .prepare(
        `INSERT INTO submissions (card_message_id, command, recorded_as, by_name, at, room_id, room_type, thread_id)
         VALUES (?, ?, NULL, ?, ?, ?, ?, ?)
         ON CONFLICT (card_message_id) DO UPDATE SET command = excluded.command, by_name = excluded.by_name, at = excluded.at,
           room_id = excluded.room_id, room_type = excluded.room_type, thread_id = excluded.thread_id
         WHERE submissions.recorded_as IS NULL AND submissions.at < ?`,
      )
      .run(s.cardMessageId, s.command, s.byName, s.at, s.roomId, s.roomType, s.threadId ?? null, staleBefore);
    return changes === 1;
  }

  async recordSubmission(s: Submission & { recordedAs: string }): Promise<void> {
    this.use()
      .prepare(
        `INSERT INTO submissions (card_message_id, command, recorded_as, by_name, at, room_id, room_type, thread_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (card_message_id) DO UPDATE SET recorded_as = excluded.recorded_as WHERE submissions.recorded_as IS NULL`,
      )
      .run(s.cardMessageId, s.command, s.recordedAs, s.byName, s.at, s.roomId, s.roomType, s.threadId ?? null);
  }

  async releaseSubmission(cardMessageId: string): Promise<void> {
    this.use().prepare('DELETE FROM submissions WHERE card_message_id = ? AND recorded_as IS NULL').run(cardMessageId);
  }

  async addTestingEntry(e: NewTestingEntry): Promise<TestingEntry> {
    const { lastInsertRowid } = this.use()
      .prepare(
        `INSERT INTO testing (tester, targets, what, starts_at, ends_at, ticket, created_by_email, created_by_name, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        e.tester,
        JSON.stringify(e.targets),
        e.what,
        e.startsAt,
        e.endsAt,
        e.ticket ?? null,
        e.createdByEmail,
        e.createdByName,
        e.createdAt,
      );
    return { ...e, number: Number(lastInsertRowid) };
  }

  async testingEntry(number: number): Promise<TestingEntry | undefined> {
    const row = this.use().prepare('SELECT * FROM testing WHERE number = ?').get(number) as TestingRow | undefined;
    return row && toEntry(row);
  }

  async testingEntriesOpenAt(at: number): Promise<TestingEntry[]> {
    const rows = this.use()
      .prepare('SELECT * FROM testing WHERE ends_at > ? AND ended_early_at IS NULL ORDER BY starts_at, number')
      .all(at) as TestingRow[];
    return rows.map(toEntry);
  }

  async endTestingEntry(number: number, at: number, byEmail: string): Promise<void> {
    this.use()
      .prepare('UPDATE testing SET ended_early_at = ?, ended_by = ? WHERE number = ? AND ended_early_at IS NULL')
      .run(at, byEmail, number);
  }

  async kvGet(namespace: string, key: string): Promise<string | undefined> {
    const row = this.use().prepare('SELECT value FROM command_kv WHERE namespace = ? AND key = ?').get(namespace, key) as
      { value: string } | undefined;
    return row?.value;
  }

  async kvSet(namespace: string, key: string, value: string, at: number): Promise<void> {
    this.use()
      .prepare(
        `INSERT INTO command_kv (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(namespace, key, value, at);
  }

  async kvDelete(namespace: string, key: string): Promise<boolean> {
    return this.use().prepare('DELETE FROM command_kv WHERE namespace = ? AND key = ?').run(namespace, key).changes > 0;
  }

  async kvList(namespace: string, prefix: string): Promise<KvEntry[]> {
    return this.use()
      .prepare('SELECT key, value FROM command_kv WHERE namespace = ? AND substr(key, 1, length(?)) = ? ORDER BY key')
      .all(namespace, prefix, prefix) as KvEntry[];
  }

  async close(): Promise<void> {
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
