// What toodles keeps on disk, as the rest of the code sees it. Only this folder knows the database.

/** too_old: sent longer ago than the catch-up's max age, so not run (the sender was asked to send it again). */
export type Outcome = 'ok' | 'denied' | 'invalid' | 'failed' | 'too_old';

/** One command run or card submit, allowed or not. */
export interface ActivityRecord {
  at: number;
  personEmail: string;
  roomId: string;
  command: string;
  kind: 'message' | 'card';
  outcome: Outcome;
  durationMs: number;
  /** The reference id a user is shown when something fails; also in the log. */
  ref: string;
}

export interface ActivityQuery {
  since?: number;
  personEmail?: string;
  command?: string;
}

/** A form that was submitted once: a second submit of the same card is answered from this. */
export interface Submission {
  cardMessageId: string;
  command: string;
  /** Unset while the first submit is still running (on this instance or another). */
  recordedAs?: string;
  byName: string;
  at: number;
  /** Where the card was, so the answer to a late second submit lands beside the first. */
  roomId: string;
  roomType: 'direct' | 'group';
  threadId?: string;
}

export interface TestingEntry {
  number: number;
  tester: string;
  targets: string[];
  what: string;
  startsAt: number;
  endsAt: number;
  ticket?: string;
  createdByEmail: string;
  createdByName: string;
  createdAt: number;
  /** Set when removed before its end: it leaves the list, stays in the history. */
  endedEarlyAt?: number;
  endedBy?: string;
}

export type NewTestingEntry = Omit<TestingEntry, 'number' | 'endedEarlyAt' | 'endedBy'>;

export interface KvEntry {
  key: string;
  value: string;
}

/**
 * Every call but recordActivity may wait for a database on another machine, so all of them return
 * promises; a call that cannot reach its database rejects with StorageUnavailableError at once.
 */
export interface Storage {
  /** Fire and forget: never throws, never waits for a server (SQLite's write is brief and local); a failure is logged and dropped. */
  recordActivity(record: ActivityRecord): void;
  activity(query: ActivityQuery): Promise<ActivityRecord[]>;
  /** Deletes activity older than `before`; resolves to how many records went. */
  pruneActivity(before: number): Promise<number>;

  /** The submission of this card, recorded or still running. */
  submission(cardMessageId: string): Promise<Submission | undefined>;
  /**
   * Takes the card for this submit, atomically across instances sharing the database: true when this
   * call won (no submission yet, or one left running since before `staleBefore` by a submit that died).
   */
  claimSubmission(claim: Omit<Submission, 'recordedAs'>, staleBefore: number): Promise<boolean>;
  /**
   * The submit went through: later submits are answered from this. Written whether or not the card
   * was claimed (the claim may have failed while the database was away).
   */
  recordSubmission(submission: Submission & { recordedAs: string }): Promise<void>;
  /** The claimed submit did not go through: the form may be submitted again. */
  releaseSubmission(cardMessageId: string): Promise<void>;

  addTestingEntry(entry: NewTestingEntry): Promise<TestingEntry>;
  testingEntry(number: number): Promise<TestingEntry | undefined>;
  /** Entries not over at `at` (in force or still to start), oldest start first. */
  testingEntriesOpenAt(at: number): Promise<TestingEntry[]>;
  endTestingEntry(number: number, at: number, byEmail: string): Promise<void>;

  /** A command module's value (JSON text) under its namespace (the command's keyword). */
  kvGet(namespace: string, key: string): Promise<string | undefined>;
  kvSet(namespace: string, key: string, value: string, at: number): Promise<void>;
  /** Resolves true when there was a value to delete. */
  kvDelete(namespace: string, key: string): Promise<boolean>;
  /** The namespace's entries whose keys start with `prefix`, in key order (by code point). */
  kvList(namespace: string, prefix: string): Promise<KvEntry[]>;

  /** Resolves once the activity records still on their way are written (or given up). */
  close(): Promise<void>;
}

/** The database cannot be used right now (missing, locked, read-only, full, or the server down). */
export class StorageUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`storage unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StorageUnavailableError';
  }
}
