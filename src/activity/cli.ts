// `toodles activity`: the audit trail, read from the state directory while the daemon runs.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openStorage, storageExists, type ActivityRecord } from '../storage/index.js';

export const ACTIVITY_USAGE = `usage: toodles activity [--since 7d] [--person EMAIL] [--command NAME] [--json | --csv] [--state-dir DIR]
  --since     how far back: 30m, 12h, 7d, or a date (2026-11-01); default 7d
  --state-dir where the database is; default $TOODLES_STATE_DIR, else /var/lib/toodles`;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
const COLUMNS = ['time', 'person', 'room', 'command', 'kind', 'outcome', 'durationMs', 'ref'] as const;

export function runActivity(argv: string[], out: (text: string) => void, err: (text: string) => void, now = Date.now()): number {
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
  const since = sinceMs(opts.since!, now);
  if (since === undefined || (opts.json && opts.csv)) {
    err(`toodles activity: ${since === undefined ? `--since: "${opts.since}" is not 30m, 12h, 7d or a date` : 'choose --json or --csv'}\n${ACTIVITY_USAGE}\n`);
    return 64;
  }
  const dir = opts['state-dir'] ?? process.env.TOODLES_STATE_DIR ?? '/var/lib/toodles';
  if (!storageExists(dir)) {
    err(`toodles activity: no activity database in ${dir} (has the bot run with TOODLES_STATE_DIR=${dir}?)\n`);
    return 1;
  }
  const storage = openStorage({ dir, readonly: true, log: pino({ enabled: false }) });
  let records: ActivityRecord[];
  try {
    records = storage.activity({ since, personEmail: opts.person, command: opts.command?.toLowerCase() });
  } catch (e) {
    err(`toodles activity: ${(e as Error).message}\n`);
    return 1;
  } finally {
    storage.close();
  }
  const rows = records.map((r) => [new Date(r.at).toISOString(), r.personEmail, r.roomId, r.command, r.kind, r.outcome, String(r.durationMs), r.ref]);
  if (opts.json) out(`${JSON.stringify(records.map((r) => ({ ...r, time: new Date(r.at).toISOString() })), null, 2)}\n`);
  else if (opts.csv) out([COLUMNS, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n');
  else out(table(rows));
  return 0;
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
  return shown.map((r) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}
