// Rows as both databases return them (same column names), turned into records. PostgreSQL returns a
// bigint as a string, hence Number() on every number.
import type { ActivityRecord, Submission, TestingEntry } from './types.js';

type Num = number | string;

export interface ActivityRow {
  at: Num;
  person_email: string;
  room_id: string;
  command: string;
  kind: ActivityRecord['kind'];
  outcome: ActivityRecord['outcome'];
  duration_ms: Num;
  ref: string;
}

export interface SubmissionRow {
  card_message_id: string;
  command: string;
  recorded_as: string | null;
  by_name: string;
  at: Num;
  room_id: string;
  room_type: 'direct' | 'group';
  thread_id: string | null;
}

export interface TestingRow {
  number: Num;
  tester: string;
  targets: string;
  what: string;
  starts_at: Num;
  ends_at: Num;
  ticket: string | null;
  created_by_email: string;
  created_by_name: string;
  created_at: Num;
  ended_early_at: Num | null;
  ended_by: string | null;
}

export function toActivity(row: ActivityRow): ActivityRecord {
  return {
    at: Number(row.at),
    personEmail: row.person_email,
    roomId: row.room_id,
    command: row.command,
    kind: row.kind,
    outcome: row.outcome,
    durationMs: Number(row.duration_ms),
    ref: row.ref,
  };
}

export function toSubmission(row: SubmissionRow): Submission {
  return {
    cardMessageId: row.card_message_id,
    command: row.command,
    ...(row.recorded_as !== null ? { recordedAs: row.recorded_as } : {}),
    byName: row.by_name,
    at: Number(row.at),
    roomId: row.room_id,
    roomType: row.room_type,
    ...(row.thread_id ? { threadId: row.thread_id } : {}),
  };
}

export function toEntry(r: TestingRow): TestingEntry {
  return {
    number: Number(r.number),
    tester: r.tester,
    targets: JSON.parse(r.targets) as string[],
    what: r.what,
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    ...(r.ticket ? { ticket: r.ticket } : {}),
    createdByEmail: r.created_by_email,
    createdByName: r.created_by_name,
    createdAt: Number(r.created_at),
    ...(r.ended_early_at !== null ? { endedEarlyAt: Number(r.ended_early_at), endedBy: r.ended_by ?? '' } : {}),
  };
}
