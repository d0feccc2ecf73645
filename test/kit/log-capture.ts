import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface LogLine {
  event?: string;
  [key: string]: unknown;
}

export interface CapturedLog {
  logger: Logger;
  lines: LogLine[];
  /** Resolves once a line with this event (and matching fields) has been written. A plain function: pass it on unbound. */
  waitFor: (event: string, match?: (line: LogLine) => boolean, timeoutMs?: number) => Promise<LogLine>;
}

/** Plain functions, not methods: callers pass them on unbound. */
export interface LineWaiter {
  /** Call whenever lines were added or the source finished. */
  changed: () => void;
  /** Resolves once a line with this event (and matching fields) exists. */
  waitFor: (event: string, match?: (line: LogLine) => boolean, timeoutMs?: number) => Promise<LogLine>;
}

/** Waits on a growing list of log lines; `finished` names why no more will come (then waits fail at once). */
export function lineWaiter(lines: () => LogLine[], finished: () => string | undefined = () => undefined): LineWaiter {
  const waiters = new Set<() => void>();
  return {
    changed: () => [...waiters].forEach((w) => w()),
    waitFor: (event, match = () => true, timeoutMs = 10_000) =>
      new Promise<LogLine>((resolve, reject) => {
        const settle = (outcome: () => void) => {
          waiters.delete(check);
          clearTimeout(timer);
          outcome();
        };
        const check = () => {
          const found = lines().find((l) => l.event === event && match(l));
          const over = found ? undefined : finished();
          if (found) settle(() => resolve(found));
          else if (over) settle(() => reject(new Error(`${over} without logging ${event}`)));
        };
        const timer = setTimeout(() => settle(() => reject(new Error(`no ${event} log line within ${timeoutMs} ms`))), timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** A pino logger whose JSON lines land in an array, parsed, for assertions. */
export function captureLog(): CapturedLog {
  const lines: LogLine[] = [];
  const waiter = lineWaiter(() => lines);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      waiter.changed();
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines, waitFor: waiter.waitFor };
}
