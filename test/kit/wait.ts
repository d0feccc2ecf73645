/** The kit's two ways to wait: a pause, and a condition polled until it holds. */
import { sleep as unrefSleep } from '../../src/util/bounded.js';

/**
 * toodles' own sleep (abortable), holding the process open meanwhile: its timer is unref'd, so a
 * test whose only pending work is a pause would otherwise end in the middle of it.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  // Past the pause itself: a hold due at the same moment may fire first and leave nothing holding the process.
  const hold = setTimeout(() => undefined, ms + 1);
  try {
    await unrefSleep(ms, signal);
  } finally {
    clearTimeout(hold);
  }
}

type Falsy = undefined | null | false;

/** Polls `cond` (sync or async) every 20 ms until it returns something truthy, and returns that; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, cond: () => T | Falsy | Promise<T | Falsy>, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
