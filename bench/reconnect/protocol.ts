/** What the bench and its bot programs say to each other: the bot's arguments and its IPC messages. */

/** A: toodles (make-before-break); B: the naive bot (break-then-make). */
export type Strategy = 'A' | 'B';

/** What a bot program needs to know; passed as its one JSON argument. */
export interface ChildArgs {
  strategy: Strategy;
  token: string;
  u2cUrl: string;
  hydraUrl: string;
  reconnects: number;
  intervalMs: number;
  drainMs: number;
  warmup: number;
}

export interface Memory {
  rss: number;
  heapUsed: number;
  /** C++ objects bound to JS (Buffers, zlib, sockets): RSS that is not JS heap. */
  external: number;
}

export type ChildMessage =
  /** Connected: sent at once, before the reading that 'ready' carries (its gc would delay a first answer). */
  | { type: 'online'; cpuMs: number }
  | { type: 'ready'; mem: Memory }
  | { type: 'reconnect'; n: number; deafMs: number; durationMs: number; rss: number }
  | {
      type: 'measured';
      reconnects: number;
      start: Memory;
      warm?: Memory;
      end: Memory;
      gc: boolean;
      warnings: number;
      firstWarnings: string[];
      duplicatesDropped: number;
    }
  | { type: 'failed'; error: string };

/** The bench asks a bot to stop with this message. */
export const STOP = { type: 'stop' } as const;
