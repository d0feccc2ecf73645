import type { Logger } from 'pino';
import { bounded, sleep } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import { FatalWebexError, NotFoundError } from './types.js';

/** Told of REST retries (status undefined: a network error), for stats. */
export interface RestObserver {
  restRetry(status: number | undefined): void;
}

interface SdkHttpError {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
}

/** The HTTP status Webex answered a failed SDK call with; none when no answer came. */
export const httpStatus = (err: unknown): number | undefined => (err as SdkHttpError).statusCode;

export type Retryable = (status: number | undefined) => boolean;
/** A read can be repeated after any server or network failure (the SDK reports the latter as status 0 or none). */
export const retryableRead: Retryable = (status) => !status || status === 429 || status >= 500;
/** A send only when Webex said it did not take it: a 500 or a lost answer may have posted the message already. */
export const retryableSend: Retryable = (status) => status === 429 || status === 503;

export interface WebexRestOptions {
  log: Logger;
  /** Each attempt is abandoned after this long. */
  requestTimeoutMs: number;
  observer?: RestObserver;
}

/**
 * Bounded REST calls with Webex's retry etiquette: 429 waits for Retry-After, 5xx and network
 * errors back off briefly, 401 is fatal, 404 is final.
 */
export class WebexRest {
  constructor(private readonly opts: WebexRestOptions) {}

  async call<T>(
    what: string,
    request: () => Promise<T>,
    { signal, retryable = retryableRead, attempts = 4 }: { signal?: AbortSignal; retryable?: Retryable; attempts?: number } = {},
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await bounded(what, request(), { timeoutMs: this.opts.requestTimeoutMs, signal });
      } catch (err) {
        const status = httpStatus(err);
        if (status === 401) throw new FatalWebexError(`Webex rejected the bot token (${what}: 401)`);
        if (status === 404) throw new NotFoundError(what);
        if (!retryable(status) || attempt >= attempts || signal?.aborted) throw err;
        const waitMs = status === 429 ? retryAfterMs(err as SdkHttpError) : 250 * 2 ** attempt;
        this.opts.log.warn({ event: 'webex.rest_retry', what, status, attempt, waitMs, err: errorText(err) });
        this.opts.observer?.restRetry(status);
        await sleep(waitMs, signal);
      }
    }
  }
}

function retryAfterMs(err: SdkHttpError): number {
  const seconds = Number(err.headers?.['retry-after']);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 60) * 1000 : 1000;
}
