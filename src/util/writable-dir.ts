import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Why a directory cannot take our files, or undefined when it can. Creates it if missing, then writes
 * and removes a small probe file: permission bits say nothing to root, and only a write shows a full disk.
 */
export function unwritableReason(dir: string): string | undefined {
  const probe = join(dir, `.toodles-write-check.${process.pid}`);
  let fd: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    fd = openSync(probe, 'wx', 0o600);
    writeSync(fd, Buffer.alloc(4096));
    return undefined;
  } catch (err) {
    // "ENOSPC: no space left on device, write": the code and its words; the path is in the caller's message
    return (err as Error).message.split(',')[0]!;
  } finally {
    if (fd !== undefined) {
      closeSync(fd);
      rmSync(probe, { force: true });
    }
  }
}
