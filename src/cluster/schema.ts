import type { Migration } from '../database/migrate.js';

/**
 * The cluster's own schema steps (applied by migrate() under its advisory lock, so instances starting
 * at once create it once). Times are the server's (now()): one clock decides every deadline.
 */
export const CLUSTER_MIGRATIONS: Migration[] = [
  {
    id: 'claims-1',
    sql: `CREATE TABLE claims (
      activity_id text PRIMARY KEY,
      owner text NOT NULL,
      claimed_at timestamptz NOT NULL DEFAULT now(),
      deadline timestamptz NOT NULL,
      done_at timestamptz,
      takeovers integer NOT NULL DEFAULT 0,
      payload jsonb NOT NULL
    );
    CREATE INDEX claims_open ON claims (deadline) WHERE done_at IS NULL;
    CREATE INDEX claims_age ON claims (claimed_at)`,
  },
  {
    id: 'claims-2',
    sql: `CREATE TABLE instances (
      owner text PRIMARY KEY,
      name text NOT NULL,
      version text NOT NULL,
      started_at timestamptz NOT NULL,
      last_seen timestamptz NOT NULL
    )`,
  },
];
