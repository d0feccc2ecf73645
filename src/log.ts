import { once } from 'node:events';
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { bounded } from './util/bounded.js';

export type { Logger };

export interface LogOptions {
  level: LogLevel;
  /** When set, JSON lines also go to rolling files here (daily and by size). */
  dir?: string;
  /** Strings that must never reach a log line, whatever field or message carries them. */
  secrets: string[];
}

export interface DaemonLog {
  logger: Logger;
  /** Flushes every destination and waits for it; call last, before exit. */
  close(): Promise<void>;
}

const CLOSE_TIMEOUT_MS = 3_000;
const ROLL = { frequency: 'daily', size: '10m', mkdir: true, limit: { count: 14 } } as const;

/**
 * One JSON line per event on stdout (journald) and, optionally, in rolling files. Secrets are
 * scrubbed from the serialized line itself, so no path through an error message or a stack can leak one.
 * Stdout is written from this thread: if journald's end goes away (EPIPE) the write fails and is
 * dropped, where a worker-thread transport would leave the exit spinning on a buffer nobody drains.
 */
export function createLog(opts: LogOptions): DaemonLog {
  const secrets = opts.secrets.filter((s) => s.length > 0);
  const scrub = (line: string) => secrets.reduce((text, secret) => text.replaceAll(secret, '[redacted]'), line);
  // Synchronous: a chat bot's few lines a second cost nothing, and none is lost or reordered at exit.
  const stdout = pino.destination({ dest: 1, sync: true });
  stdout.on('error', () => undefined); // journald gone: the files, if any, still get every line
  const streams: pino.StreamEntry[] = [{ level: opts.level, stream: stdout }];
  const files = opts.dir
    ? pino.transport({ target: 'pino-roll', options: { file: `${opts.dir}/toodles.log`, ...ROLL } })
    : undefined;
  if (files) streams.push({ level: opts.level, stream: files });
  const logger = pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
      hooks: { streamWrite: scrub },
    },
    pino.multistream(streams),
  );
  return {
    logger,
    async close() {
      try {
        stdout.flushSync();
      } catch {
        // EPIPE: nobody is reading stdout any more.
      }
      if (!files) return;
      const closed = once(files, 'close').catch(() => undefined);
      files.end();
      // Kept alive on purpose: the file worker is unref'd, and nothing else may be left to wait for it.
      await bounded('log flush', closed, { timeoutMs: CLOSE_TIMEOUT_MS, keepAlive: true }).catch(() => undefined);
    },
  };
}
