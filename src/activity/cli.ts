// `toodles activity`: the audit trail, read while the daemon runs: from the shared PostgreSQL when a
// database URL is configured, else from the state directory.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { readDatabaseUrl } from '../config.js';
import { openDatabase } from '../database/open.js';
import { openStorage, storageIn, type ActivityRecord, type Storage } from '../storage/index.js';
import { errorText } from '../util/error-text.js';

export const ACTIVITY_USAGE = `usage: toodles activity [--since 7d] [--person EMAIL] [--command NAME] [--json | --csv] [--state-dir DIR]
  --since     how far back: 30m, 12h, 7d, or a date (2026-11-01); default 7d
  --state-dir where the database is; default $TOODLES_STATE_DIR, else /var/lib/toodles
  With a database URL ($TOODLES_DATABASE_URL, else the database-url credential: $CREDENTIALS_DIRECTORY
  or /etc/toodles) and no --state-dir, the audit trail is read from that PostgreSQL, which every
  instance shares.`;

/** Where install.sh keeps the service's credentials (database-url among them). */
const CONF_DIR = '/etc/toodles';
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const COLUMNS = ['time', 'person', 'room', 'command', 'kind', 'outcome', 'durationMs', 'ref'] as const;

export async function runActivity(
  argv: string[],
  out: (text: string) => void,
  err: (text: string) => void,
  now = Date.now(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let opts;
  try {
    opts = parseArgs({
      args: argv,
      options: {
        since: { type: 'string', default: '7d' },
        person: { type: 'string' },
        command: { type: 'string' },
        json: { type: 'boolean', default: false },
        csv: { type: 'boolean', default: false },
        'state-dir': { type: 'string' },
      },
    }).values;
  } catch (e) {
    err(`toodles activity: ${(e as Error).message}\n${ACTIVITY_USAGE}\n`);
    return 64;
  }
  const since = sinceMs(opts.since, now);
  if (since === undefined || (opts.json && opts.csv)) {
    err(
      `toodles activity: ${since === undefined ? `--since: "${opts.since}" is not 30m, 12h, 7d or a date` : 'choose --json or --csv'}\n${ACTIVITY_USAGE}\n`,
    );
    return 64;
  }
  const source = await openSource(opts['state-dir'], err, env);
  if (!source) return 1;
  let records: ActivityRecord[];
  try {
    records = await source.storage.activity({ since, personEmail: opts.person, command: opts.command?.toLowerCase() });
  } catch (e) {
    // A database no instance has used yet has no tables: say so rather than quote PostgreSQL.
    const missing = (e as { code?: unknown }).code === '42P01';
    err(`toodles activity: ${missing ? 'no audit trail in that database yet (has the bot run with it?)' : errorText(e)}\n`);
    return 1;
  } finally {
    await source.close();
  }
  const rows = records.map((r) => [
    new Date(r.at).toISOString(),
    r.personEmail,
    r.roomId,
    r.command,
    r.kind,
    r.outcome,
    String(r.durationMs),
    r.ref,
  ]);
  if (opts.json)
    out(
      `${JSON.stringify(
        records.map((r) => ({ ...r, time: new Date(r.at).toISOString() })),
        null,
        2,
      )}\n`,
    );
  else if (opts.csv) out([COLUMNS, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n');
  else out(table(rows));
  return 0;
}

/**
 * Where the audit trail is: the shared PostgreSQL when a database URL is configured (as the daemon
 * reads it), else the state directory. Undefined (and said why) when there is none.
 */
async function openSource(
  stateDir: string | undefined,
  err: (text: string) => void,
  env: NodeJS.ProcessEnv,
): Promise<{ storage: Storage; close(): Promise<void> } | undefined> {
  const log = pino({ enabled: false });
  let url: string | undefined;
  try {
    // Outside the service there is no $CREDENTIALS_DIRECTORY: the credential file install.sh keeps stands in for it.
    url = readDatabaseUrl(env.CREDENTIALS_DIRECTORY || env.TOODLES_DATABASE_URL ? env : { ...env, CREDENTIALS_DIRECTORY: CONF_DIR });
  } catch (e) {
    err(`toodles activity: ${errorText(e)}\n`);
    return undefined;
  }
  if (url && stateDir === undefined) {
    // One attempt, bounded like every query (2 s): a person is waiting.
    const database = await openDatabase({ url, log, applicationName: 'toodles activity' });
    const storage = await openStorage({ database, readonly: true, log });
    return { storage, close: async () => (await storage.close(), await database.close()) };
  }
  const dir = stateDir ?? env.TOODLES_STATE_DIR ?? '/var/lib/toodles';
  const found = storageIn(dir);
  if (found === 'denied') {
    err(`toodles activity: permission denied: run as root or as the service user toodles (${dir})\n`);
    return undefined;
  }
  if (found === 'absent') {
    err(`toodles activity: no activity database in ${dir} (has the bot run with TOODLES_STATE_DIR=${dir}?)\n`);
    return undefined;
  }
  const storage = await openStorage({ dir, readonly: true, log });
  return { storage, close: () => storage.close() };
}

function sinceMs(text: string, now: number): number | undefined {
  const rel = /^(\d+)([mhd])$/.exec(text);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  return Number.isNaN(at) ? undefined : at;
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Aligned columns for a terminal; room ids are long, their tail is enough to tell them apart. */
function table(rows: string[][]): string {
  if (!rows.length) return 'no activity in that period\n';
  const shown = [COLUMNS.map(String), ...rows.map((r) => r.map((v, i) => (i === 2 && v.length > 12 ? `…${v.slice(-10)}` : v)))];
  const widths = COLUMNS.map((_c, i) => Math.max(...shown.map((r) => r[i]!.length)));
  return (
    shown
      .map((r) =>
        r
          .map((v, i) => v.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
