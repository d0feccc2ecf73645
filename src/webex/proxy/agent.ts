/**
 * The proxy agent for the Mercury websocket and for REST calls, and the errors that say a failure
 * was the proxy's. The agent itself (tunnel-agent.ts: proxy-agent's ProxyAgent underneath) is loaded
 * only when a proxy is configured.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { ProxySettings } from './settings.js';

/** The CONNECT (or proxy TCP/TLS) phase took too long: the proxy accepted TCP but did not answer. */
export class ProxyConnectTimeoutError extends Error {
  override readonly name = 'ProxyConnectTimeoutError';
  readonly code = 'EPROXYTIMEOUT';
  constructor(
    readonly proxy: string,
    readonly timeoutMs: number,
  ) {
    super(`proxy ${proxy} did not open a connection within ${timeoutMs} ms`);
  }
}

/** The proxy answered the CONNECT with something other than 200 (e.g. 407, 502, 503). */
export class ProxyRefusedError extends Error {
  override readonly name = 'ProxyRefusedError';
  readonly code = 'EPROXYREFUSED';
  constructor(
    readonly proxy: string,
    readonly target: string,
    /** The proxy's status; not `statusCode`, so nothing mistakes it for the target's answer. */
    readonly proxyStatus: number,
    statusText: string,
  ) {
    super(`proxy ${proxy} refused the tunnel to ${target}: ${proxyStatus}${statusText ? ` ${statusText}` : ''}`);
  }
}

/** The proxy could not be reached (TCP refused, unreachable, reset before answering the CONNECT). */
export class ProxyUnreachableError extends Error {
  override readonly name = 'ProxyUnreachableError';
  /** The underlying system error's code (ECONNREFUSED, ...), so callers can still classify it. */
  readonly code: string;
  constructor(
    readonly proxy: string,
    cause: unknown,
  ) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`proxy ${proxy} unreachable: ${message}`, { cause });
    this.code = (cause as { code?: unknown } | null)?.code?.toString() ?? 'EPROXYUNREACHABLE';
  }
}

export interface ProxyAgentOptions {
  /**
   * Give up on reaching the target through the proxy (TCP to the proxy + CONNECT answer) after this
   * many ms: the request fails with ProxyConnectTimeoutError instead of hanging. Default 15000.
   * (Neither `ws`'s handshakeTimeout nor `request`'s timeout starts before the agent hands over a
   * socket, so without this a proxy that accepts TCP and never answers hangs the caller.)
   */
  connectTimeoutMs?: number;
  /**
   * Told about every failure that is the proxy's (ProxyRefusedError, ProxyUnreachableError,
   * ProxyConnectTimeoutError), as it happens: the SDK swallows a websocket's handshake error and
   * reports only "Failed to connect to socket", so this is where the daemon learns why.
   */
  onProxyError?: (err: ProxyRefusedError | ProxyUnreachableError | ProxyConnectTimeoutError) => void;
}

/**
 * The agent for the Mercury websocket (pass as `config.defaultMercuryOptions.agent`: the SDK hands it
 * to the `ws` constructor) and for REST calls (give it to installRestProxy). The websocket and
 * https:// targets go through an HTTP CONNECT tunnel, http:// targets as absolute-URI requests to the
 * proxy. No keep-alive: every call opens a fresh connection, so a proxy that silently kills idle
 * connections cannot strand a pooled one. Returns undefined when no proxy is configured (direct).
 */
export async function createProxyAgent(settings: ProxySettings, options: ProxyAgentOptions = {}): Promise<HttpAgent | undefined> {
  if (!settings.proxyUrl) return undefined;
  const { ToodlesProxyAgent } = await import('./tunnel-agent.js');
  return new ToodlesProxyAgent(settings, options);
}
