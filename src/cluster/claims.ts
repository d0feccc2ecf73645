/**
 * The claims table's statements, each one round trip. An activity id is claimed by one atomic
 * insert (one winner); the winner renews its lease while it works and marks the claim done; a claim
 * past its deadline and not done can be taken over by anyone, with the activity as its payload.
 */
import type { Database } from '../database/database.js';
import type { IncomingActivity } from '../webex/types.js';

export interface TakenOver {
  activity: IncomingActivity;
  previousOwner: string;
}

const LEASE = `now() + $3::integer * interval '1 millisecond'`;

export class ClaimsTable {
  constructor(
    private readonly db: Database,
    private readonly owner: string,
  ) {}

  /** True when this instance won the activity; false when another instance already holds it. */
  async claim(activity: IncomingActivity, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      'claim',
      `INSERT INTO claims (activity_id, owner, deadline, payload) VALUES ($1, $2, ${LEASE}, $4)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [activity.id, this.owner, leaseMs, JSON.stringify(activity)],
    );
    return rows.length === 1;
  }

  /** Extends the lease; false when the claim is no longer ours (taken over) or already done. */
  async renew(id: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      'claim renewal',
      `UPDATE claims SET deadline = ${LEASE} WHERE activity_id = $1 AND owner = $2 AND done_at IS NULL RETURNING 1`,
      [id, this.owner, leaseMs],
    );
    return rows.length === 1;
  }

  /**
   * Marks a claim answered, as its first reply is about to go out: true while it was still ours.
   * From then on no sweeper takes it over, so a death after the reply never answers it twice.
   */
  async markAnswered(id: string): Promise<boolean> {
    const rows = await this.db.query(
      'claim answered',
      'UPDATE claims SET done_at = now() WHERE activity_id = $1 AND owner = $2 AND done_at IS NULL RETURNING 1',
      [id, this.owner],
    );
    return rows.length === 1;
  }

  /**
   * Marks these ids answered by this instance: claims it holds, and ids it answered alone while the
   * database was away (inserted as done). A claim row of another owner is taken and marked done too:
   * typically a claim insert that timed out on a frozen server and committed after its sender gave up
   * (no one handles it, and a sweeper would answer it a second time); if its owner does handle it,
   * the owner's fence now withholds its reply.
   */
  async settle(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      'claim settle',
      `INSERT INTO claims (activity_id, owner, deadline, done_at, payload)
       SELECT id, $2, now(), now(), '{}'::jsonb FROM unnest($1::text[]) AS id
       ON CONFLICT (activity_id) DO UPDATE SET done_at = now(), owner = $2
       WHERE claims.done_at IS NULL`,
      [ids, this.owner],
    );
  }

  /**
   * Takes over expired, undone claims (at most `limit`, each at most `maxTakeovers` times), skipping
   * rows another sweeper holds right now: two sweepers never take the same claim.
   */
  async takeOver(leaseMs: number, maxTakeovers: number, limit: number): Promise<TakenOver[]> {
    const rows = await this.db.query<{ payload: IncomingActivity; previous: string }>(
      'claim sweep',
      `UPDATE claims c SET owner = $2, deadline = ${LEASE}, takeovers = c.takeovers + 1
       FROM (SELECT activity_id, owner FROM claims
             WHERE done_at IS NULL AND deadline < now() AND takeovers < $4
             ORDER BY deadline LIMIT $1 FOR UPDATE SKIP LOCKED) old
       WHERE c.activity_id = old.activity_id
       RETURNING c.payload, old.owner AS previous`,
      [limit, this.owner, leaseMs, maxTakeovers],
    );
    return rows.map((r) => ({ activity: r.payload, previousOwner: r.previous }));
  }

  /** Deletes claims older than the retention; returns how many. */
  async prune(retentionMs: number): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      'claim prune',
      `WITH gone AS (DELETE FROM claims WHERE claimed_at < now() - $1::integer * interval '1 millisecond' RETURNING 1)
       SELECT count(*)::integer AS n FROM gone`,
      [retentionMs],
    );
    return row?.n ?? 0;
  }
}
