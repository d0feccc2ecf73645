import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface LogLine {
  event?: string;
  [key: string]: unknown;
}

export interface CapturedLog {
  logger: Logger;
  lines: LogLine[];
  /** Resolves once a line with this event (and matching fields) has been written. */
  waitFor(event: string, match?: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** A pino logger whose JSON lines land in an array, parsed, for assertions. */
export function captureLog(): CapturedLog {
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      for (const w of waiters) w();
      done();
    },
  });
  const waitFor = (event: string, match: (l: LogLine) => boolean = () => true, timeoutMs = 10_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = lines.find((l) => l.event === event && match(l));
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${event} log line within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { logger: pino({ level: 'debug' }, sink), lines, waitFor };
}
