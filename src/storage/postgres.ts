import type { Logger } from 'pino';
import { DatabaseUnavailableError, type Database } from '../database/database.js';
import { migrate, type Migration } from '../database/migrate.js';
import { errorText } from '../util/error-text.js';
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

export interface PostgresOptions {
  database: Database;
  log: Logger;
  /** For readers (`toodles activity`): the schema is used as it is, never created. */
  readonly?: boolean;
}

// The same tables as SQLite's, shared by every instance. Times are epoch milliseconds, as there.
export const STORAGE_MIGRATIONS: Migration[] = [
  {
    id: 'storage-1',
    sql: `CREATE TABLE activity (
            id bigserial PRIMARY KEY, at bigint NOT NULL, person_email text NOT NULL, room_id text NOT NULL,
            command text NOT NULL, kind text NOT NULL, outcome text NOT NULL, duration_ms bigint NOT NULL, ref text NOT NULL);
          CREATE INDEX activity_at ON activity (at);
          CREATE TABLE submissions (
            card_message_id text PRIMARY KEY, command text NOT NULL, recorded_as text, by_name text NOT NULL,
            at bigint NOT NULL, room_id text NOT NULL, room_type text NOT NULL, thread_id text);
          CREATE TABLE testing (
            number bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tester text NOT NULL, targets text NOT NULL,
            what text NOT NULL, starts_at bigint NOT NULL, ends_at bigint NOT NULL, ticket text,
            created_by_email text NOT NULL, created_by_name text NOT NULL, created_at bigint NOT NULL,
            ended_early_at bigint, ended_by text);`,
  },
  {
    id: 'storage-2',
    sql: `CREATE TABLE command_kv (
            namespace text NOT NULL, key text NOT NULL, value text NOT NULL, updated_at bigint NOT NULL,
            PRIMARY KEY (namespace, key));`,
  },
];

/**
 * The audit trail, submissions and testing register in the PostgreSQL the instances share. Every call
 * is one bounded statement (Database); while the database is down each fails at once with
 * StorageUnavailableError, like an SQLite file that cannot be opened. The schema is brought up to date
 * at first use (the daemon's first prune, at start), under migrate's lock.
 */
export class PostgresStorage implements Storage {
  private schema?: Promise<void>;
  /** Activity records on their way, so close() can wait for them before the database goes. */
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly opts: PostgresOptions) {}

  recordActivity(r: ActivityRecord): void {
    const write = this.query(
      'record activity',
      'INSERT INTO activity (at, person_email, room_id, command, kind, outcome, duration_ms, ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [r.at, r.personEmail, r.roomId, r.command, r.kind, r.outcome, r.durationMs, r.ref],
    ).then(
      () => undefined,
      (err: unknown) => this.opts.log.error({ event: 'storage.failed', op: 'record activity', ref: r.ref, err: errorText(err) }),
    );
    this.writes.add(write);
    void write.finally(() => this.writes.delete(write));
  }

  async activity(q: ActivityQuery): Promise<ActivityRecord[]> {
    const rows = await this.query<ActivityRow>(
      'read activity',
      `SELECT at, person_email, room_id, command, kind, outcome, duration_ms, ref FROM activity
       WHERE at >= $1 AND ($2::text IS NULL OR lower(person_email) = lower($2)) AND ($3::text IS NULL OR command = $3)
       ORDER BY at, id`,
      [q.since ?? 0, q.personEmail ?? null, q.command ?? null],
    );
    return rows.map(toActivity);
  }

  async pruneActivity(before: number): Promise<number> {
    const rows = await this.query(
      'prune activity',
      'WITH gone AS (DELETE FROM activity WHERE at < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone',
      [before],
    );
    return (rows[0] as { n: number }).n;
  }

  async submission(cardMessageId: string): Promise<Submission | undefined> {
    const [row] = await this.query<SubmissionRow>('read submission', 'SELECT * FROM submissions WHERE card_message_id = $1', [
      cardMessageId,
    ]);
    return row && toSubmission(row);
  }

  async claimSubmission(s: Omit<Submission, 'recordedAs'>, staleBefore: number): Promise<boolean> {
    // One statement: of two instances inserting at once, the second waits for the first's row and finds it taken.
    const won = await this.query(
      'claim submission',
      `INSERT INTO submissions (card_message_id, command, recorded_as, by_name, at, room_id, room_type, thread_id)
       VALUES ($1, $2, NULL, $3, $4, $5, $6, $7)
       ON CONFLICT (card_message_id) DO UPDATE SET command = excluded.command, by_name = excluded.by_name, at = excluded.at,
         room_id = excluded.room_id, room_type = excluded.room_type, thread_id = excluded.thread_id
       WHERE submissions.recorded_as IS NULL AND submissions.at < $8
       RETURNING 1`,
      [s.cardMessageId, s.command, s.byName, s.at, s.roomId, s.roomType, s.threadId ?? null, staleBefore],
    );
    return won.length === 1;
  }

  async recordSubmission(s: Submission & { recordedAs: string }): Promise<void> {
    await this.query(
      'record submission',
      `INSERT INTO submissions (card_message_id, command, recorded_as, by_name, at, room_id, room_type, thread_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (card_message_id) DO UPDATE SET recorded_as = excluded.recorded_as WHERE submissions.recorded_as IS NULL`,
      [s.cardMessageId, s.command, s.recordedAs, s.byName, s.at, s.roomId, s.roomType, s.threadId ?? null],
    );
  }

  async releaseSubmission(cardMessageId: string): Promise<void> {
    await this.query('release submission', 'DELETE FROM submissions WHERE card_message_id = $1 AND recorded_as IS NULL', [cardMessageId]);
  }

  async addTestingEntry(e: NewTestingEntry): Promise<TestingEntry> {
    const [row] = await this.query<{ number: string }>(
      'add testing entry',
      `INSERT INTO testing (tester, targets, what, starts_at, ends_at, ticket, created_by_email, created_by_name, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING number`,
      [e.tester, JSON.stringify(e.targets), e.what, e.startsAt, e.endsAt, e.ticket ?? null, e.createdByEmail, e.createdByName, e.createdAt],
    );
    return { ...e, number: Number(row!.number) };
  }

  async testingEntry(number: number): Promise<TestingEntry | undefined> {
    const [row] = await this.query<TestingRow>('read testing entry', 'SELECT * FROM testing WHERE number = $1', [number]);
    return row && toEntry(row);
  }

  async testingEntriesOpenAt(at: number): Promise<TestingEntry[]> {
    const rows = await this.query<TestingRow>(
      'list testing entries',
      'SELECT * FROM testing WHERE ends_at > $1 AND ended_early_at IS NULL ORDER BY starts_at, number',
      [at],
    );
    return rows.map(toEntry);
  }

  async endTestingEntry(number: number, at: number, byEmail: string): Promise<void> {
    await this.query(
      'end testing entry',
      'UPDATE testing SET ended_early_at = $1, ended_by = $2 WHERE number = $3 AND ended_early_at IS NULL',
      [at, byEmail, number],
    );
  }

  async kvGet(namespace: string, key: string): Promise<string | undefined> {
    const [row] = await this.query<{ value: string }>(
      'read command value',
      'SELECT value FROM command_kv WHERE namespace = $1 AND key = $2',
      [namespace, key],
    );
    return row?.value;
  }

  async kvSet(namespace: string, key: string, value: string, at: number): Promise<void> {
    await this.query(
      'write command value',
      `INSERT INTO command_kv (namespace, key, value, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      [namespace, key, value, at],
    );
  }

  async kvDelete(namespace: string, key: string): Promise<boolean> {
    const gone = await this.query('delete command value', 'DELETE FROM command_kv WHERE namespace = $1 AND key = $2 RETURNING 1', [
      namespace,
      key,
    ]);
    return gone.length > 0;
  }

  async kvList(namespace: string, prefix: string): Promise<KvEntry[]> {
    // "C": byte order, which for UTF-8 is code point order, as SQLite sorts.
    return this.query<KvEntry>(
      'list command values',
      'SELECT key, value FROM command_kv WHERE namespace = $1 AND starts_with(key, $2) ORDER BY key COLLATE "C"',
      [namespace, prefix],
    );
  }

  /** Waits for the records on their way; the Database itself belongs to the daemon, which closes it after. */
  async close(): Promise<void> {
    await Promise.all(this.writes);
  }

  private async query<R extends object>(what: string, sql: string, params: unknown[]): Promise<R[]> {
    try {
      await this.ready();
      return await this.opts.database.query<R & Record<string, unknown>>(`storage: ${what}`, sql, params);
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) throw new StorageUnavailableError(err);
      throw err;
    }
  }

  /** The schema, brought up to date once per process; a failed attempt is tried again at the next call. */
  private ready(): Promise<void> {
    if (this.opts.readonly) return Promise.resolve();
    const { database, log } = this.opts;
    this.schema ??= migrate(database, STORAGE_MIGRATIONS).then(
      (applied) => log.info({ event: 'storage.open', database: database.target, applied }),
      (err: unknown) => {
        this.schema = undefined;
        // A database that is down says so itself (database.down); anything else is the schema's problem.
        if (!(err instanceof DatabaseUnavailableError))
          log.error({ event: 'storage.open_failed', database: database.target, err: errorText(err) });
        throw err;
      },
    );
    return this.schema;
  }
}
