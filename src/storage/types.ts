// What toodles keeps on disk, as the rest of the code sees it. Only this folder knows the database.

export type Outcome = 'ok' | 'denied' | 'invalid' | 'failed';

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
  recordedAs: string;
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

export interface Storage {
  /** Never throws and never waits for anything but the local disk: a failure is logged and dropped. */
  recordActivity(record: ActivityRecord): void;
  activity(query: ActivityQuery): ActivityRecord[];
  /** Deletes activity older than `before`; returns how many records went. */
  pruneActivity(before: number): number;

  submission(cardMessageId: string): Submission | undefined;
  recordSubmission(submission: Submission): void;

  addTestingEntry(entry: NewTestingEntry): TestingEntry;
  testingEntry(number: number): TestingEntry | undefined;
  /** Entries not over at `at` (in force or still to start), oldest start first. */
  testingEntriesOpenAt(at: number): TestingEntry[];
  endTestingEntry(number: number, at: number, byEmail: string): void;

  close(): void;
}

/** The database cannot be used right now (missing, locked, read-only, full). */
export class StorageUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`storage unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StorageUnavailableError';
  }
}
