/** The kit's two ways to wait: a pause, and a condition polled until it holds. */
import { setTimeout as delay } from 'node:timers/promises';

/**
 * The one pause: one plain timer, which keeps the process open while a test waits on it. Not toodles'
 * own sleep, whose timer is unref'd: held open by a second timer beside it, a loaded process still
 * exited mid-wait now and then.
 */
export async function sleep(ms: number): Promise<void> {
  await delay(ms);
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
