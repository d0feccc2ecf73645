import { spawn } from 'node:child_process';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fromJournalLine, fromJsonLine, type LogRecord } from './records.js';

export interface ReadProgress {
  lines: number;
  skipped: number;
}

export type Sink = (record: LogRecord) => void;

/** The rolling files in `dir`, oldest first (pino-roll numbers restart each day, so by time). */
export function logFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.log(\.\d+)?$/.test(f) && f !== 'current.log')
    .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => a.mtime - b.mtime)
    .map((f) => f.path);
}

/** Streams every JSON line at or after `since` from the rolling files into `sink`. */
export async function readLogDir(dir: string, since: number, sink: Sink, progress: ReadProgress): Promise<void> {
  for (const file of logFiles(dir)) {
    if (statSync(file).mtimeMs < since) continue; // nothing in it is recent enough
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      progress.lines += 1;
      if (line.length === 0) continue;
      const r = fromJsonLine(line);
      if (!r) progress.skipped += 1;
      else if (r.at >= since) sink(r);
    }
  }
}

export class JournalUnreadable extends Error {}

/** Where a journal window starting at `since` (ms) begins for journalctl: whole seconds since the epoch. */
export const journalSeconds = (since: number) => Math.max(0, Math.floor(since / 1000));

/** `journalctl` arguments for everything since `since` (the bot's entries and systemd's lines for the unit). */
export const sinceFilter = (since: number) => ['--since', `@${journalSeconds(since)}`];

/** The start of the unit's running process, when it began before the window (for its settings). */
export const startOf = (pid: number) => ['-n', '1', 'EVENT=daemon.start', `_PID=${pid}`];

/** Streams `journalctl -u UNIT -o json <filter>` into `sink`. */
export async function readJournal(unit: string, filter: string[], sink: Sink, progress: ReadProgress): Promise<void> {
  const child = spawn('journalctl', ['-u', unit, '-o', 'json', '--no-pager', ...filter], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // settles once, after the lines are read: a spawn error (no journalctl) or the exit status
  const exited = new Promise<number | Error>((resolve) => {
    child.on('error', (err) => resolve(err));
    child.on('close', (code) => resolve(code ?? 1));
  });
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  for await (const line of lines) {
    progress.lines += 1;
    const r = fromJournalLine(line);
    if (r) sink(r);
    else progress.skipped += 1;
  }
  const code = await exited;
  if (code instanceof Error) throw new JournalUnreadable(`cannot run journalctl: ${code.message}`);
  if (code !== 0) throw new JournalUnreadable(`journalctl failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`);
}

/** Where a journal's entries go: those from before the window only tell what the running process is. */
export interface JournalSinks {
  seed(record: LogRecord, since: number): void;
  add(record: LogRecord): void;
}

/**
 * The journal as /usr/local/bin/toodles hands it to `toodles monitor --journal-stdin` when root runs it
 * (systemd/toodles-command: root reads the journal, the release's code does not run as root), a line
 * each: `Since=@SECONDS` (where the window starts), the unit's `systemctl show` properties, the running
 * process's `daemon.start` from before the window and the window's entries (`journalctl -o json`), then
 * `JournalStatus=N` (journalctl's exit status). Resolves with the unit's state and the window's start.
 */
export async function readPipedJournal(
  input: NodeJS.ReadableStream,
  sinks: JournalSinks,
  progress: ReadProgress,
): Promise<{ unit?: UnitState; since: number }> {
  const props: Record<string, string> = {};
  let since: number | undefined;
  const noWindow = () => new JournalUnreadable('no window start before the entries (Since=@SECONDS)');
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (!line.startsWith('{')) {
      const eq = line.indexOf('=');
      if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1);
      const start = /^Since=@(\d+)$/.exec(line);
      if (start) since = Number(start[1]) * 1000;
      continue;
    }
    if (since === undefined) throw noWindow();
    progress.lines += 1;
    const r = fromJournalLine(line);
    if (!r) progress.skipped += 1;
    else if (r.at < since) sinks.seed(r, since);
    else sinks.add(r);
  }
  if (props.JournalStatus === undefined) throw new JournalUnreadable('the journal ended early (no JournalStatus=)');
  if (props.JournalStatus !== '0') throw new JournalUnreadable(`journalctl failed (exit ${props.JournalStatus})`);
  if (since === undefined) throw noWindow();
  return { unit: unitStateOf(props), since };
}

export interface UnitState {
  /** systemd's ActiveState: "active", "failed", "inactive", "activating"... */
  state: string;
  mainPid?: number;
  /** When the current main process started (ms). */
  since?: number;
}

const SYSTEMCTL_TIMEOUT_MS = 5_000;

/** What systemd says about the unit now, or undefined when systemctl cannot say (or not within 5 s). */
export async function unitState(unit: string): Promise<UnitState | undefined> {
  return new Promise((resolve) => {
    const args = ['show', '--timestamp=unix', '-p', 'ActiveState,MainPID,ExecMainStartTimestamp', unit];
    // Bounded like every wait: a wedged systemd must not hang a monitoring check (it then reads as unknown).
    const child = spawn('systemctl', args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: SYSTEMCTL_TIMEOUT_MS });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      const props = Object.fromEntries(
        out
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      resolve(code === 0 ? unitStateOf(props) : undefined);
    });
  });
}

/** The unit's state in `systemctl show --timestamp=unix` properties, when they name one. */
function unitStateOf(props: Record<string, string | undefined>): UnitState | undefined {
  if (!props.ActiveState) return undefined;
  const pid = Number(props.MainPID);
  const since = Number(props.ExecMainStartTimestamp?.replace(/^@/, '')) * 1000;
  return { state: props.ActiveState, mainPid: pid > 0 ? pid : undefined, since: since > 0 ? since : undefined };
}
