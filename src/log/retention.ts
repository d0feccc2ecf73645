import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Keeps the newest `count` rolled files (`<base>.<n>.log`) in `dir`. pino-roll's removeOtherLogFiles does
 * this on each roll, but its clean-up is asynchronous in the file worker: a process that rolls just
 * before it exits (or is killed) leaves one too many. Run at start and after the final flush.
 */
export function pruneRolledFiles(dir: string, base: string, count: number): void {
  const pattern = new RegExp(`^${base}\\.\\d+\\.log$`);
  let files: Array<{ path: string; mtime: number }>;
  try {
    files = readdirSync(dir)
      .filter((f) => pattern.test(f))
      .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }));
  } catch {
    return; // no directory yet, or a file vanished under us: the next run tries again
  }
  files.sort((a, b) => b.mtime - a.mtime);
  for (const f of files.slice(count)) {
    try {
      unlinkSync(f.path);
    } catch {
      // already gone
    }
  }
}
