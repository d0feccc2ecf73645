import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Replaces a file whole (a temporary copy renamed over it), so a kill mid-write leaves the old
 * content or the new, never a torn file. A failed write removes its temporary copy: on a full disk
 * it only takes space.
 */
export function writeAtomically(file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.tmp`;
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
