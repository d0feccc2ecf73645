import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Analyzer, DEFAULT_THRESHOLDS, EXIT_CODE, type Thresholds } from './analyze.js';
import { renderJson, renderText } from './render.js';
import {
  JournalUnreadable,
  journalSeconds,
  readJournal,
  readLogDir,
  readPipedJournal,
  sinceFilter,
  startOf,
  unitState,
  type ReadProgress,
  type UnitState,
} from './sources.js';

export const USAGE = `usage: toodles monitor [--unit NAME | --log-dir DIR] [--since 24h|90m|7d|TIMESTAMP] [--as-of TIMESTAMP] [--max-deaf SECONDS] [--json]`;

interface Options {
  unit: string;
  logDir?: string;
  since: number;
  sinceText: string;
  /** The moment the logs are judged at: now, or an incident's time when logs copied off a VM are reviewed later. */
  asOf: number;
  json: boolean;
  thresholds: Thresholds;
  /**
   * How /usr/local/bin/toodles runs this as root (systemd/toodles-command): it asks for the journal
   * window (`--journal-window`), reads it itself, and pipes it to this command run unprivileged
   * (`--journal-stdin`; see readPipedJournal).
   */
  journalWindow: boolean;
  journalStdin: boolean;
}

export class UsageError extends Error {}

/** `24h`, `90m`, `7d`, `30s`, or anything Date.parse takes; relative to `now`. */
export function parseSince(text: string, now: number): number {
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (rel) return now - Number(rel[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`--since: "${text}" is neither a duration (90m, 24h, 7d) nor a timestamp`);
  return at;
}

export function parseArgs(argv: string[], now: number): Options {
  const o: Options = {
    unit: 'toodles',
    since: 0,
    sinceText: '24h',
    asOf: now,
    json: false,
    thresholds: { ...DEFAULT_THRESHOLDS },
    journalWindow: false,
    journalStdin: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--unit':
        o.unit = value();
        if (!/^[A-Za-z0-9:_.@-]+$/.test(o.unit)) throw new UsageError(`--unit: "${o.unit}" is not a unit name`);
        break;
      case '--log-dir':
        o.logDir = value();
        break;
      case '--since':
        o.sinceText = value();
        break;
      case '--as-of': {
        const v = value();
        o.asOf = Date.parse(v);
        if (Number.isNaN(o.asOf)) throw new UsageError(`--as-of: "${v}" is not a timestamp`);
        break;
      }
      case '--max-deaf': {
        const v = value();
        const s = Number(v);
        if (!Number.isFinite(s) || s < 0) throw new UsageError(`--max-deaf: "${v}" is not a number of seconds`);
        o.thresholds.maxDeafMs = s * 1000;
        break;
      }
      case '--json':
        o.json = true;
        break;
      case '--journal-window':
        o.journalWindow = true;
        break;
      case '--journal-stdin':
        o.journalStdin = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  o.since = parseSince(o.sinceText, o.asOf);
  return o;
}

/** Root, or a member of a group journald lets read the system journal. */
function mayReadJournal(): boolean {
  if (process.getuid?.() === 0) return true;
  let groups: string[];
  try {
    groups = readFileSync('/etc/group', 'utf8').split('\n');
  } catch {
    return true; // cannot tell: let journalctl decide
  }
  const mine = new Set(process.getgroups?.() ?? []);
  return groups.some((line) => {
    const [name, , gid] = line.split(':');
    return (name === 'systemd-journal' || name === 'adm') && mine.has(Number(gid));
  });
}

/** On a terminal, a progress line while reading takes more than a moment. */
export function progressReporter(progress: ReadProgress, out: { isTTY?: boolean; write(s: string): unknown } = process.stderr): () => void {
  if (!out.isTTY) return () => undefined;
  const started = Date.now();
  let shown = false;
  const timer = setInterval(() => {
    shown = true;
    out.write(`\rreading: ${progress.lines.toLocaleString('en')} lines, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }, 1_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (shown) out.write('\r\x1b[K');
  };
}

export async function runMonitor(argv: string[], now = Date.now()): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv, now);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (!err.message) {
      // (asked for the window, the wrapper then runs the help itself)
      if (!argv.includes('--journal-window')) process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    process.stderr.write(`toodles monitor: ${err.message}\n${USAGE}\n`);
    return 64;
  }
  if (o.journalWindow) {
    if (!o.logDir) process.stdout.write(`${o.unit} ${journalSeconds(o.since)}\n`);
    return 0;
  }
  if (!o.logDir && !o.journalStdin && !mayReadJournal()) {
    process.stdout.write(
      `UNKNOWN: ${userInfo().username} may not read the system journal (needs root or the systemd-journal or adm group; or use --log-dir DIR)\n`,
    );
    return EXIT_CODE.UNKNOWN;
  }
  const analyzer = new Analyzer(o.thresholds);
  const progress: ReadProgress = { lines: 0, skipped: 0 };
  const done = progressReporter(progress);
  const source = o.logDir ? `files in ${o.logDir}` : `journal of unit ${o.unit}`;
  let read: { unit?: UnitState; since: number };
  try {
    read = await readSource(o, analyzer, progress);
  } catch (err) {
    done();
    const why =
      err instanceof JournalUnreadable ? err.message : `cannot read ${source}: ${err instanceof Error ? err.message : String(err)}`;
    process.stdout.write(o.json ? `${JSON.stringify({ verdict: 'UNKNOWN', reasons: [why] })}\n` : `UNKNOWN: ${why}\n`);
    return EXIT_CODE.UNKNOWN;
  }
  done();
  analyzer.skipped = progress.skipped;
  const report = analyzer.report(o.asOf, read.unit);
  const since = new Date(read.since).toISOString().slice(0, 19).replace('T', ' ');
  process.stdout.write(o.json ? renderJson(report) : renderText(report, o.thresholds, `${source}, since ${since} UTC (${o.sinceText})`));
  return EXIT_CODE[report.verdict];
}

/** Reads the chosen source into the analyzer: the unit's state after reading (none for files), and where the window starts. */
async function readSource(o: Options, analyzer: Analyzer, progress: ReadProgress): Promise<{ unit?: UnitState; since: number }> {
  if (o.logDir) {
    await readLogDir(o.logDir, o.since, (r) => analyzer.add(r), progress);
    return { since: o.since };
  }
  if (o.journalStdin) return readPipedJournal(process.stdin, analyzer, progress);
  const before = await unitState(o.unit);
  if (before?.mainPid) await readJournal(o.unit, startOf(before.mainPid), (r) => analyzer.seed(r, o.since), { lines: 0, skipped: 0 });
  await readJournal(o.unit, sinceFilter(o.since), (r) => analyzer.add(r), progress);
  return { unit: await unitState(o.unit), since: o.since };
}
