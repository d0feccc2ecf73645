import type { Database } from './database.js';

/** One schema step; its id is recorded once applied and never changes meaning. */
export interface Migration {
  id: string;
  sql: string;
}

// Any constant works: it only has to be the same in every instance.
const MIGRATION_LOCK = 0x70_0d_1e_5;
/** Waiting for another instance's migration, or building an index, is not a sick server: a longer bound. */
const MIGRATION_TIMEOUT_MS = 30_000;

/**
 * Brings the schema up to date. Each module owns its own list of steps; every call takes the same
 * transaction-scoped advisory lock, so instances starting at once apply each step exactly once and
 * the later ones find it done. Returns the ids applied by this call.
 */
export async function migrate(db: Database, steps: Migration[]): Promise<string[]> {
  return db.transaction(
    'schema migration',
    async (client) => {
      await client.query(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS toodles_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set((await client.query<{ id: string }>('SELECT id FROM toodles_migrations')).rows.map((r) => r.id));
      const applied: string[] = [];
      for (const step of steps) {
        if (done.has(step.id)) continue;
        await client.query(step.sql);
        await client.query('INSERT INTO toodles_migrations (id) VALUES ($1)', [step.id]);
        applied.push(step.id);
      }
      return applied;
    },
    MIGRATION_TIMEOUT_MS,
  );
}
