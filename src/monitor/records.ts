/**
 * The monitor reads two kinds of input, the journal (`journalctl -o json`) and the rolling JSON files;
 * both become the same records here. A line that is not what we expect is skipped and counted.
 */
export interface LogRecord {
  at: number;
  pid?: number;
  /** The bot's event name; undefined for other lines of the unit (systemd's own, stderr). */
  event?: string;
  fields: Record<string, unknown>;
  /** Text of a line that is not a bot event: systemd's lines for the unit, a crash or config message. */
  text?: string;
  /** True when systemd itself (PID 1) wrote the line. */
  systemd?: boolean;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;
/** Journal fields that are not the event's own (trusted, addressing and source fields). */
const JOURNAL_OWN = new Set([
  'MESSAGE',
  'PRIORITY',
  'SYSLOG_IDENTIFIER',
  'EVENT',
  'CODE_FILE',
  'CODE_LINE',
  'CODE_FUNC',
  'MESSAGE_ID',
  'UNIT',
  'INVOCATION_ID',
  'SYSLOG_FACILITY',
  'SYSLOG_PID',
  'SYSLOG_TIMESTAMP',
  'TID',
  'JOB_ID',
  'JOB_TYPE',
  'JOB_RESULT',
  'USER_UNIT',
  'USER_INVOCATION_ID',
]);

/** `DURATION_MS` -> `durationMs`: the inverse of the journal's field naming. */
export function camelName(name: string): string {
  return name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** One line of a rolling file (pino JSON), or undefined when it is not one. */
export function fromJsonLine(line: string): LogRecord | undefined {
  return fromJsonObject(safeParse(line));
}

function fromJsonObject(obj: unknown): LogRecord | undefined {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  const at = typeof o.time === 'number' ? o.time : typeof o.time === 'string' ? Date.parse(o.time) : NaN;
  if (!Number.isFinite(at) || typeof o.event !== 'string') return undefined;
  return { at, pid: typeof o.pid === 'number' ? o.pid : undefined, event: o.event, fields: o };
}

/** One entry of `journalctl -o json`, or undefined when it is not one. */
export function fromJournalLine(line: string): LogRecord | undefined {
  const obj = safeParse(line);
  if (!obj || typeof obj !== 'object') return undefined;
  const e = obj as Record<string, unknown>;
  const at = Number(e.__REALTIME_TIMESTAMP) / 1000;
  if (!Number.isFinite(at)) return undefined;
  const pid = Number(e._PID);
  const message =
    typeof e.MESSAGE === 'string' ? e.MESSAGE : Array.isArray(e.MESSAGE) ? Buffer.from(e.MESSAGE as number[]).toString('utf8') : '';
  if (typeof e.EVENT === 'string') {
    const fields: Record<string, unknown> = { event: e.EVENT };
    for (const [k, v] of Object.entries(e)) {
      if (k.startsWith('_') || JOURNAL_OWN.has(k) || typeof v !== 'string') continue;
      fields[camelName(k)] = NUMERIC.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
    }
    return { at, pid: Number.isFinite(pid) ? pid : undefined, event: e.EVENT, fields, text: message };
  }
  // an older version's JSON line on stdout
  if (message.startsWith('{')) {
    const old = fromJsonObject(safeParse(message));
    if (old) return { ...old, at };
  }
  return {
    at,
    pid: Number.isFinite(pid) ? pid : undefined,
    fields: {},
    text: message,
    systemd: pid === 1 || e.SYSLOG_IDENTIFIER === 'systemd',
  };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
