import type { ActivityRecord } from '../../src/storage/index.js';

/** A fixed "now" for storage tests. */
export const NOW = Date.parse('2026-11-30T12:00:00Z');

/** An audit record with sensible defaults. */
export const activityRecord = (over: Partial<ActivityRecord>): ActivityRecord => ({
  at: NOW,
  personEmail: 'alice@example.com',
  roomId: 'R1',
  command: 'ping',
  kind: 'message',
  outcome: 'ok',
  durationMs: 12,
  ref: 'abcd0001',
  ...over,
});
