// The one door to toodles' storage. Callers get a Storage; which database is behind it stays here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorText } from '../util/error-text.js';
import { DB_FILE, SqliteStorage, type SqliteOptions } from './sqlite.js';
import type { Storage } from './types.js';

export * from './types.js';

export function openStorage(opts: SqliteOptions): Storage {
  return new SqliteStorage(opts);
}

/** Has the daemon stored anything in this state directory yet? */
export function storageExists(dir: string): boolean {
  return existsSync(join(dir, DB_FILE));
}

const DAY_MS = 86_400_000;

/** Prunes activity older than `days` now and then once a day; returns the stop function. */
export function schedulePruning(storage: Storage, days: number, log: Logger, now: () => number = Date.now): () => void {
  const prune = () => {
    try {
      const removed = storage.pruneActivity(now() - days * DAY_MS);
      log.info({ event: 'storage.pruned', removed, days });
    } catch (err) {
      log.error({ event: 'storage.failed', op: 'prune activity', err: errorText(err) });
    }
  };
  prune();
  const timer = setInterval(prune, DAY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
