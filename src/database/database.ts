/**
 * The shared PostgreSQL, as the rest of toodles sees it: bounded queries and one health state.
 *
 *   up ── a query fails for want of the server (refused, cut, timed out, shutting down) ──> down
 *   down ── a probe (SELECT 1, paced 0.5 s doubling to 5 s) answers ──> up
 *
 * While down, queries fail at once with DatabaseUnavailableError instead of each one waiting out a
 * timeout, so the bot decides what to do without the database in microseconds. A query error the
 * server itself reports (a constraint, a syntax error) leaves the state up.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { bounded, sleep } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';

export type DatabaseHealth = 'up' | 'down';

export interface DatabaseOptions {
  url: string;
  log: Logger;
  /** Names this connection in pg_stat_activity (the instance name). */
  applicationName: string;
  /** Every query, connection wait included, is abandoned after this long (and cancelled on the server). */
  queryTimeoutMs?: number;
  poolSize?: number;
  probeMinMs?: number;
  probeMaxMs?: number;
  now?: () => number;
}

export interface DatabaseStatus {
  health: DatabaseHealth;
  /** host:port/database, never the password. */
  target: string;
  since: number;
  lastError?: string;
  queries: number;
}

export class DatabaseUnavailableError extends Error {
  constructor(reason: string) {
    super(`database unavailable: ${reason}`);
    this.name = 'DatabaseUnavailableError';
  }
}

export type Queryable = Pick<pg.ClientBase, 'query'>;

// SQLSTATE classes that mean the server, not the query, is the problem.
// 57 includes 57014, a statement cancelled by statement_timeout: a server too slow to use.
const SERVER_TROUBLE = /^(08|53|57)/;

export class Database {
  private readonly pool: pg.Pool;
  private health: DatabaseHealth = 'up';
  private since: number;
  private lastError?: string;
  private queries = 0;
  private probing?: Promise<void>;
  private readonly closing = new AbortController();
  private readonly listeners = new Set<(health: DatabaseHealth) => void>();
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: DatabaseOptions) {
    this.now = opts.now ?? Date.now;
    this.since = this.now();
    this.timeoutMs = opts.queryTimeoutMs ?? 2_000;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      application_name: opts.applicationName,
      max: opts.poolSize ?? 4,
      connectionTimeoutMillis: this.timeoutMs,
      // The server gives up on a statement we gave up on, so a late commit cannot surprise us.
      statement_timeout: this.timeoutMs,
      idle_in_transaction_session_timeout: this.timeoutMs * 5,
      keepAlive: true,
      idleTimeoutMillis: 60_000,
    });
    // An idle connection cut by a restarting server: without a listener it would kill the process.
    this.pool.on('error', (err) => this.failed(err));
    // A checked-out connection cut between two queries (a server restart) emits 'error' on the client
    // itself, where the pool does not listen: without this, the process would die of it.
    this.pool.on('connect', (client) => client.on('error', (err) => this.failed(err)));
  }

  /** host:port/database from the URL, for logs and status (no user, no password). */
  get target(): string {
    const u = new URL(this.opts.url);
    return `${u.hostname || u.searchParams.get('host') || 'localhost'}:${u.port || 5432}${u.pathname}`;
  }

  status(): DatabaseStatus {
    return { health: this.health, target: this.target, since: this.since, lastError: this.lastError, queries: this.queries };
  }

  get isUp(): boolean {
    return this.health === 'up';
  }

  onHealth(listener: (health: DatabaseHealth) => void): void {
    this.listeners.add(listener);
  }

  /** One statement, bounded; rows on success. */
  async query<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return this.use(what, this.timeoutMs, async (c) => (await c.query<R>(sql, params)).rows);
  }

  /**
   * Several statements on one connection in a transaction, bounded as a whole (by the query timeout,
   * or `timeoutMs` for work known to take longer: a schema migration, which also raises the
   * server-side statement_timeout for its own statements with SET LOCAL).
   */
  async transaction<T>(what: string, work: (client: Queryable) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    return this.use(what, timeoutMs, async (client) => {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.probing;
    await bounded('database close', this.pool.end(), { timeoutMs: this.timeoutMs }).catch(() => undefined);
  }

  private async use<T>(what: string, timeoutMs: number, work: (client: Queryable) => Promise<T>): Promise<T> {
    if (this.health === 'down') throw new DatabaseUnavailableError(this.lastError ?? 'down');
    try {
      return await this.attempt(what, work, timeoutMs);
    } catch (err) {
      if (isServerTrouble(err)) {
        this.failed(err);
        throw new DatabaseUnavailableError(errorText(err));
      }
      throw err;
    }
  }

  private async attempt<T>(what: string, work: (client: Queryable) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    this.queries += 1;
    let client: pg.PoolClient | undefined;
    let broken = false;
    try {
      return await bounded(
        what,
        async (signal) => {
          const connected = await this.pool.connect();
          // Given up while waiting for a connection: the late one goes back (destroyed), not leaked.
          if (signal.aborted) {
            connected.release(true);
            throw new Error(`${what} abandoned`);
          }
          client = connected;
          return work(connected);
        },
        { timeoutMs, signal: this.closing.signal },
      );
    } catch (err) {
      broken = isServerTrouble(err);
      throw err;
    } finally {
      // A connection that timed out may still be busy: destroy it rather than hand it to the next query.
      client?.release(broken ? true : undefined);
    }
  }

  private failed(err: unknown): void {
    this.lastError = errorText(err);
    if (this.health === 'down' || this.closing.signal.aborted) return;
    this.setHealth('down');
    this.opts.log.warn({ event: 'database.down', target: this.target, err: this.lastError });
    this.probing = this.probe();
  }

  private async probe(): Promise<void> {
    const downAt = this.now();
    let delayMs = this.opts.probeMinMs ?? 500;
    for (;;) {
      try {
        await sleep(delayMs, this.closing.signal);
        await this.attempt('database probe', (c) => c.query('SELECT 1'));
        break;
      } catch (err) {
        if (this.closing.signal.aborted) return;
        this.lastError = errorText(err);
        delayMs = Math.min(delayMs * 2, this.opts.probeMaxMs ?? 5_000);
      }
    }
    this.lastError = undefined;
    this.setHealth('up');
    this.opts.log.info({ event: 'database.up', target: this.target, downMs: this.now() - downAt });
  }

  private setHealth(health: DatabaseHealth): void {
    this.health = health;
    this.since = this.now();
    for (const l of this.listeners) l(health);
  }
}

/** The server is missing, cut off, overloaded or shutting down: nothing to do with the query itself. */
function isServerTrouble(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return SERVER_TROUBLE.test(code);
  return true; // no SQLSTATE: a socket error, a timeout, a terminated connection
}
