// The one door to toodles' storage. Callers get a Storage; which database is behind it stays here.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Database } from '../database/database.js';
import { errorText } from '../util/error-text.js';
import type { SqliteOptions } from './sqlite.js';
import type { Storage } from './types.js';

export * from './types.js';

/** The SQLite file in the state directory. */
export const DB_FILE = 'toodles.db';

/**
 * The shared PostgreSQL when the instances have one (a cluster), else SQLite in the state directory.
 * Only the one in use is loaded: the other's client is weight a configuration without it never needs.
 */
export async function openStorage(opts: SqliteOptions & { database?: Database }): Promise<Storage> {
  const { database, ...sqlite } = opts;
  if (database) {
    const { PostgresStorage } = await import('./postgres.js');
    return new PostgresStorage({ database, log: opts.log, readonly: opts.readonly });
  }
  const { SqliteStorage } = await import('./sqlite.js');
  return new SqliteStorage(sqlite);
}

/** Has the daemon stored anything in this state directory yet, and may this user read it? */
export function storageIn(dir: string): 'readable' | 'absent' | 'denied' {
  try {
    accessSync(join(dir, DB_FILE), constants.R_OK);
    return 'readable';
  } catch (err) {
    // The unit keeps the state directory to the service user (0700): anyone else cannot even see whether it is there.
    return (err as NodeJS.ErrnoException).code === 'EACCES' ? 'denied' : 'absent';
  }
}

const DAY_MS = 86_400_000;

/**
 * Prunes activity older than `days` once `begin` settles, then once a day; returns the stop function.
 * The daemon begins once the bot is online: opening the database (and SQLite's file writes) never
 * holds up a start.
 */
export function schedulePruning(
  storage: Storage,
  days: number,
  log: Logger,
  opts: { begin?: Promise<unknown>; now?: () => number } = {},
): () => void {
  const { begin = Promise.resolve(), now = Date.now } = opts;
  const prune = () =>
    storage.pruneActivity(now() - days * DAY_MS).then(
      (removed) => log.info({ event: 'storage.pruned', removed, days }),
      (err: unknown) => log.error({ event: 'storage.failed', op: 'prune activity', err: errorText(err) }),
    );
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  void begin.then(() => {
    if (stopped) return;
    void prune();
    timer = setInterval(() => void prune(), DAY_MS);
    timer.unref();
  });
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
