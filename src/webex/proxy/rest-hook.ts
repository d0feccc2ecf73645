/**
 * Routes one SDK instance's REST layer (@webex/http-core, `request` underneath) through the proxy
 * agent. Structural: this module does not import the SDK.
 */
import type { Agent as HttpAgent } from 'node:http';

/** The subset of an @webex/http-core request options object that the REST hook touches. */
export interface HttpCoreRequestOptions {
  agent?: unknown;
  proxy?: unknown;
  timeout?: unknown;
  [key: string]: unknown;
}

/** The part of a WebexCore instance installRestProxy needs (structural: no SDK types here). */
export interface WebexLike {
  request: (...args: never[]) => unknown;
}

export interface RestProxyOptions {
  /**
   * `request`'s timeout (ms) for calls that do not set one: connect + time to response headers, and
   * between body chunks. Without it, a proxy that silently stops forwarding leaves a REST call
   * hanging forever. Default 30000; 0 leaves calls without a timeout.
   */
  timeoutMs?: number;
}

/**
 * Set the agent on one http-core request options object (the body of the hook, exported for tests).
 * `proxy: null` turns off `request`'s own proxying (it would otherwise read HTTP(S)_PROXY itself,
 * ignoring TOODLES_PROXY_URL, and tunnel with its own code).
 */
export function applyRestProxy(
  options: HttpCoreRequestOptions,
  agent: HttpAgent | undefined,
  restOptions: RestProxyOptions = {},
): HttpCoreRequestOptions {
  if (agent && options.agent === undefined) options.agent = agent;
  options.proxy = null;
  const timeoutMs = restOptions.timeoutMs ?? 30_000;
  if (timeoutMs > 0 && options.timeout === undefined) options.timeout = timeoutMs;
  return options;
}

/**
 * Route every REST call of one SDK instance through `agent` (from createProxyAgent; undefined means
 * direct). Call it right after `WebexCore.init(...)`, before anything else uses the instance; every
 * SDK plugin calls `this.webex.request(...)`, so wrapping the instance's `request` covers them all.
 * (WebexCore's `request` is a set-once ampersand prop: we shadow it with an own property.)
 * Safe with no proxy: it still stops `request` from reading HTTP(S)_PROXY on its own, so the
 * settings resolved here are the only ones in force. Do not also set `config.proxy`.
 * Returns a function that restores the original.
 */
export function installRestProxy(webex: WebexLike, agent: HttpAgent | undefined, restOptions: RestProxyOptions = {}): () => void {
  const original = webex.request as (...args: unknown[]) => unknown;
  const ownBefore = Object.getOwnPropertyDescriptor(webex, 'request');
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    // http-core accepts request(options) or request(uri, options).
    const [first, second] = args;
    if (typeof first === 'string') {
      const options = (second && typeof second === 'object' ? second : {}) as HttpCoreRequestOptions;
      return original.call(this, first, applyRestProxy(options, agent, restOptions), ...args.slice(2));
    }
    if (first && typeof first === 'object') {
      applyRestProxy(first as HttpCoreRequestOptions, agent, restOptions);
    }
    return original.apply(this, args);
  };
  // WebexCore declares `request` as an ampersand-state session prop with setOnce, so plain assignment
  // throws ("Property 'request' can only be set once"). An own data property on the instance shadows
  // the prototype's accessor; every `this.webex.request(...)` then reads ours.
  Object.defineProperty(webex, 'request', { value: wrapped, writable: true, configurable: true, enumerable: false });
  return () => {
    if (webex.request !== wrapped) return;
    if (ownBefore) Object.defineProperty(webex, 'request', ownBefore);
    else delete (webex as { request?: unknown }).request;
  };
}
