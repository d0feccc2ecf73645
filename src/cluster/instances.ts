/** The instances table: each instance's heartbeat, and the peers seen recently through it. */
import type { Database } from '../database/database.js';

export class InstancesTable {
  constructor(
    private readonly db: Database,
    private readonly self: { owner: string; name: string; version: string; startedAt: number },
  ) {}

  /** Records this instance as alive and returns the names of the others seen within `windowMs`. */
  async heartbeat(windowMs: number): Promise<string[]> {
    const { owner, name, version, startedAt } = this.self;
    const rows = await this.db.query<{ name: string }>(
      'heartbeat',
      `WITH beat AS (
         INSERT INTO instances (owner, name, version, started_at, last_seen) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), now())
         ON CONFLICT (owner) DO UPDATE SET last_seen = now()
       )
       SELECT DISTINCT name FROM instances
       WHERE name <> $2 AND last_seen > now() - $5::integer * interval '1 millisecond' ORDER BY name`,
      [owner, name, version, startedAt, windowMs],
    );
    return rows.map((r) => r.name);
  }

  /** A clean stop leaves the table at once, so peers stop counting this process. */
  async leave(): Promise<void> {
    await this.db.query('instance leave', 'DELETE FROM instances WHERE owner = $1', [this.self.owner]);
  }

  /** Rows of processes gone for longer than `olderThanMs` (every restart adds one). */
  async prune(olderThanMs: number): Promise<void> {
    await this.db.query('instance prune', `DELETE FROM instances WHERE last_seen < now() - $1::integer * interval '1 millisecond'`, [
      olderThanMs,
    ]);
  }
}
