import { once } from 'node:events';
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { bounded } from './util/bounded.js';
import { scrubber } from './log/scrub.js';
import { pruneRolledFiles } from './log/retention.js';
import type { DatagramSender, JournalSink } from './journal/sink.js';
import { stdoutIsJournal } from './journal/stream.js';

export type { Logger };

export interface LogOptions {
  level: LogLevel;
  /** When set, JSON lines also go to rolling files here (daily and by size). */
  dir?: string;
  /** Credentials that must never reach a log line (redacted where they occur; see log/scrub.ts). */
  secrets: string[];
  /** Rolling limits; tests make them small. */
  roll?: { size: string; count: number };
  /** The journal's socket when stdout is the journal; by default detected from JOURNAL_STREAM. */
  journal?: DatagramSender | false;
}

export interface DaemonLog {
  logger: Logger;
  /** Flushes every destination and waits for it; call last, before exit. */
  close: () => Promise<void>;
}

const CLOSE_TIMEOUT_MS = 3_000;
const ROLL = { size: '10m', count: 14 };

/**
 * The journal sink when stdout is the journal (or a socket is given), loaded only then; none means JSON
 * lines on stdout, also when the addon cannot load (journald still reads them).
 */
async function openJournalSink(given: DatagramSender | false | undefined): Promise<JournalSink | undefined> {
  if (given === false || (given === undefined && !stdoutIsJournal())) return undefined;
  const { JournalSink, journalSocket } = await import('./journal/sink.js');
  try {
    return new JournalSink({ sender: given ?? journalSocket() });
  } catch {
    return undefined;
  }
}

/**
 * One event per log call: a native journal entry when stdout is the journal (a sentence, a priority and
 * every field), else one JSON line on stdout; and, optionally, JSON lines in rolling files.
 * Stdout is written from this thread: if journald's end goes away (EPIPE) the write fails and is
 * dropped, where a worker-thread transport would leave the exit spinning on a buffer nobody drains.
 */
export async function createLog(opts: LogOptions): Promise<DaemonLog> {
  const sink = await openJournalSink(opts.journal);
  // Synchronous: a chat bot's few lines a second cost nothing, and none is lost or reordered at exit.
  const stdout = sink ? undefined : pino.destination({ dest: 1, sync: true });
  stdout?.on('error', () => undefined); // journald gone: the files, if any, still get every line
  // Every stream takes every level: the logger's own level, which a reload may change, decides alone.
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: sink ?? stdout! }];
  const roll = opts.roll ?? ROLL;
  const prune = () => opts.dir && pruneRolledFiles(opts.dir, 'toodles', roll.count);
  prune();
  const files = opts.dir
    ? pino.transport({
        target: 'pino-roll',
        // removeOtherLogFiles: the limit also counts files earlier processes left (restarts, upgrades)
        options: {
          file: `${opts.dir}/toodles.log`,
          frequency: 'daily',
          size: roll.size,
          mkdir: true,
          limit: { count: roll.count, removeOtherLogFiles: true },
        },
      })
    : undefined;
  const destinations = pino.multistream(streams);
  const logger = pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: scrubber(opts.secrets) },
    },
    destinations,
  );
  if (files) {
    destinations.add({ level: 'trace', stream: files });
    // A full or broken log disk costs the files, never the bot: an unhandled 'error' would end the process.
    files.once('error', (err: Error) => {
      const entry = destinations.streams.find((s) => s.stream === files) as { id?: number } | undefined;
      if (entry?.id !== undefined) destinations.remove(entry.id);
      logger.warn({ event: 'log.files_failed', dir: opts.dir, err: err.message });
    });
  }
  return {
    logger,
    async close() {
      sink?.close();
      try {
        stdout?.flushSync();
      } catch {
        // EPIPE: nobody is reading stdout any more.
      }
      if (!files) return;
      const closed = once(files, 'close').catch(() => undefined);
      files.end();
      // Kept alive on purpose: the file worker is unref'd, and nothing else may be left to wait for it.
      await bounded('log flush', closed, { timeoutMs: CLOSE_TIMEOUT_MS, keepAlive: true }).catch(() => undefined);
      prune();
    },
  };
}
