import type { Database, DatabaseOptions } from './database.js';

/** The shared PostgreSQL; its client (pg) is loaded only by a configuration that has a database URL. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const { Database } = await import('./database.js');
  return new Database(options);
}
