import { once } from 'node:events';
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';

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

const ROLL = { frequency: 'daily', size: '10m', mkdir: true, limit: { count: 14 } } as const;

/**
 * One JSON line per event on stdout (journald) and, optionally, in rolling files. Secrets are
 * scrubbed from the serialized line itself, so no path through an error message or a stack can leak one.
 */
export function createLog(opts: LogOptions): DaemonLog {
  const secrets = opts.secrets.filter((s) => s.length > 0);
  const scrub = (line: string) => secrets.reduce((text, secret) => text.replaceAll(secret, '[redacted]'), line);
  const targets: pino.TransportTargetOptions[] = [{ target: 'pino/file', level: opts.level, options: { destination: 1 } }];
  if (opts.dir) {
    targets.push({ target: 'pino-roll', level: opts.level, options: { file: `${opts.dir}/toodles.log`, ...ROLL } });
  }
  const transport = pino.transport({ targets });
  const logger = pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
      hooks: { streamWrite: scrub },
    },
    transport,
  );
  return {
    logger,
    async close() {
      logger.flush();
      const closed = once(transport, 'close');
      transport.end();
      await closed;
    },
  };
}
