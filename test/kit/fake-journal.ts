import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEntry } from '../../src/journal/protocol.js';
import { eventually } from './wait.js';

/** A real AF_UNIX datagram socket standing in for journald's: decodes each entry it receives. */
export interface FakeJournal {
  path: string;
  entries: Array<Map<string, string>>;
  /** Resolves once `n` entries have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

export function fakeJournalPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'toodles-journal-')), 'socket');
}

export function fakeJournal(path = fakeJournalPath()): FakeJournal {
  const { createSocket } = createRequire(import.meta.url)('unix-dgram') as typeof import('unix-dgram');
  const socket = createSocket('unix_dgram') as ReturnType<typeof createSocket> & { bind(path: string): void };
  const entries: Array<Map<string, string>> = [];
  socket.on('message', (buf: Buffer) => entries.push(decodeEntry(buf)));
  socket.bind(path);
  return {
    path,
    entries,
    async waitFor(n, timeoutMs = 5_000) {
      await eventually(`${n} journal entries`, () => entries.length >= n, timeoutMs);
    },
    close() {
      socket.close();
      rmSync(path, { force: true });
    },
  };
}
