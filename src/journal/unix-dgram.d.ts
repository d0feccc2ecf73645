declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';
  export interface UnixDgramSocket extends EventEmitter {
    /** Synchronous: the callback runs before send returns (an Error with a negative errno, or 'congestion'). */
    send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
    close(): void;
  }
  export function createSocket(type: 'unix_dgram'): UnixDgramSocket;
}
