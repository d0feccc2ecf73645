/** Raised when a bounded wait runs out of time; `what` names the wait for the log. */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

export class AbortedError extends Error {
  constructor(readonly what: string) {
    super(`${what} aborted`);
    this.name = 'AbortedError';
  }
}

/**
 * The one way toodles waits for anything it does not control: the work is raced against a
 * timeout and an optional abort signal. The work receives a signal that fires on either, so it
 * can stop what it started. The timer never keeps the process alive on its own, unless `keepAlive`
 * says the wait is the last thing the process has to do (a flush before exit). A timeout of
 * Infinity is for a caller that already bounds the wait from outside and only needs the abort.
 */
export function bounded<T>(
  what: string,
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  opts: { timeoutMs: number; signal?: AbortSignal; keepAlive?: boolean },
): Promise<T> {
  const controller = new AbortController();
  const outer = opts.signal;
  if (outer?.aborted) return Promise.reject(new AbortedError(what));
  return new Promise<T>((resolve, reject) => {
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = () => {
      controller.abort();
      finish(() => reject(new AbortedError(what)));
    };
    const timer = Number.isFinite(opts.timeoutMs)
      ? setTimeout(() => {
          controller.abort();
          finish(() => reject(new TimeoutError(what, opts.timeoutMs)));
        }, opts.timeoutMs)
      : undefined;
    if (!opts.keepAlive) timer?.unref();
    outer?.addEventListener('abort', onAbort, { once: true });
    let promise: Promise<T>;
    try {
      promise = typeof work === 'function' ? work(controller.signal) : work;
    } catch (err) {
      promise = Promise.reject(err);
    }
    promise.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}

/** Anything with once/off: Node's EventEmitter and the Webex SDK's ampersand events alike. */
export interface OnceEmitter {
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Waits for `event` on `emitter` (first argument), bounded like any other wait. */
export function waitForEvent<T = unknown>(
  emitter: OnceEmitter,
  event: string,
  opts: { timeoutMs: number; signal?: AbortSignal; what?: string },
): Promise<T> {
  return bounded(
    opts.what ?? `waiting for ${event}`,
    (signal) =>
      new Promise<T>((resolve) => {
        const listener = (value: unknown) => resolve(value as T);
        emitter.once(event, listener);
        signal.addEventListener('abort', () => emitter.off(event, listener), { once: true });
      }),
    opts,
  );
}

/** A pause that ends early (rejecting) when the signal aborts; unref'd like every timer here. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError('sleep'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('sleep'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
