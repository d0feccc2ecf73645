import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { encodeEntry, fieldName } from './protocol.js';
import { sentence, type LogFields } from './messages.js';

export const JOURNAL_SOCKET = '/run/systemd/journal/socket';
const IDENTIFIER = 'toodles';
/** Log fields the journal has its own version of (_PID, the entry's timestamp) or that MESSAGE carries. */
const SKIPPED = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** What the sink needs of a datagram socket: a send that reports failure at once, never queues. */
export interface DatagramSender {
  send(datagram: Buffer): Error | undefined;
  close(): void;
}

export interface JournalSinkOptions {
  sender: DatagramSender;
  /** Where an entry goes when the socket refuses it: a `<N>`-prefixed line (journald reads the level). */
  fallback?: (line: string) => void;
}

/** The journal's socket through unix-dgram (errors come back synchronously; nothing is queued). */
export function journalSocket(path = JOURNAL_SOCKET): DatagramSender {
  const require = createRequire(import.meta.url);
  const { createSocket } = require('unix-dgram') as typeof import('unix-dgram');
  const socket = createSocket('unix_dgram');
  socket.on('error', () => undefined); // every send has a callback; this only guards the addon's own emits
  socket.on('congestion', () => undefined);
  let closed = false;
  return {
    send(datagram) {
      if (closed) return new Error('journal socket closed');
      let failure: Error | undefined;
      socket.send(datagram, 0, datagram.length, path, (err) => {
        failure = err;
      });
      return failure;
    },
    close() {
      // the addon aborts the process on a second close
      if (!closed) socket.close();
      closed = true;
    },
  };
}

export function priorityOf(level: unknown): number {
  const n = typeof level === 'number' ? level : 30;
  if (n >= 60) return 2;
  if (n >= 50) return 3;
  if (n >= 40) return 4;
  if (n >= 30) return 6;
  return 7;
}

/** One log event as journal fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, then every field by name. */
export function journalFields(event: LogFields): Array<[string, string]> {
  const fields: Array<[string, string]> = [
    ['MESSAGE', sentence(event)],
    ['PRIORITY', String(priorityOf(event.level))],
    ['SYSLOG_IDENTIFIER', IDENTIFIER],
  ];
  const seen = new Set(fields.map(([n]) => n));
  const add = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) add(`${key}_${k}`, v);
      return;
    }
    const name = fieldName(key);
    if (!name || seen.has(name)) return;
    seen.add(name);
    fields.push([name, typeof value === 'string' ? value : JSON.stringify(value)]);
  };
  for (const [k, v] of Object.entries(event)) if (!SKIPPED.has(k)) add(k, v);
  return fields;
}

/**
 * A pino destination that sends each JSON line as one native journal entry. It never blocks and never
 * throws: a refused entry becomes a `<N>` line on stdout, and when even that fails it is dropped; both
 * are counted and reported by a `journal.degraded` entry once the socket takes entries again.
 */
export class JournalSink {
  private fallbackCount = 0;
  private dropped = 0;
  private lastError = '';
  private readonly fallback: (line: string) => void;

  constructor(private readonly opts: JournalSinkOptions) {
    this.fallback = opts.fallback ?? ((line) => void writeSync(1, line));
  }

  write(line: string): boolean {
    let event: LogFields;
    try {
      event = JSON.parse(line) as LogFields;
    } catch {
      event = { msg: line.trim() };
    }
    if (this.send(event) && (this.fallbackCount > 0 || this.dropped > 0)) {
      const report = {
        level: 40,
        event: 'journal.degraded',
        fallback: this.fallbackCount,
        dropped: this.dropped,
        lastError: this.lastError,
      };
      this.fallbackCount = 0;
      this.dropped = 0;
      this.send(report);
    }
    return true;
  }

  close(): void {
    this.opts.sender.close();
  }

  private send(event: LogFields): boolean {
    const fields = journalFields(event);
    const failure = this.opts.sender.send(encodeEntry(fields));
    if (!failure) return true;
    this.lastError = failure.message;
    try {
      this.fallback(`<${fields[1]![1]}>${fields[0]![1].replaceAll('\n', ' ')}\n`);
      this.fallbackCount += 1;
    } catch {
      this.dropped += 1;
    }
    return false;
  }
}
