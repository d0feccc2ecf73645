import { fstatSync } from 'node:fs';

/**
 * True when stdout is a stream to the journal: systemd sets JOURNAL_STREAM=<dev>:<inode> for it, and a
 * redirect (`| cat`, a file) changes the inode, so a stale variable does not count.
 */
export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const expected = env.JOURNAL_STREAM;
  if (!expected) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return `${st.dev}:${st.ino}` === expected;
  } catch {
    return false;
  }
}
