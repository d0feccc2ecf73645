/**
 * Corporate proxy support (issue 6).
 *
 * - resolveProxySettings(): which proxy to use, from TOODLES_PROXY_URL (wins), else HTTPS_PROXY,
 *   https_proxy, HTTP_PROXY, http_proxy; NO_PROXY / no_proxy honoured.
 * - describeProxy() / redactProxyUrl(): log-safe text (credentials never appear).
 * - createMercuryAgent(): agent for the `ws` websocket (config.defaultMercuryOptions.agent).
 * - createRestAgent() + installRestProxy(): route the SDK's REST layer (@webex/http-core, `request`
 *   underneath) through the same proxy.
 *
 * Uses the maintained `proxy-agent` package (http-proxy-agent / https-proxy-agent underneath). We
 * give it our own getProxyForUrl instead of its env lookup, because (a) TOODLES_PROXY_URL must win,
 * and (b) its lookup reads WS_PROXY/WSS_PROXY for websocket URLs, so a websocket would silently go
 * direct with only HTTPS_PROXY set. We map ws: -> http:, wss: -> https: ourselves.
 *
 * This module does not import the SDK.
 */
import type { ClientRequest } from 'node:http';
import type { Agent as HttpAgent } from 'node:http';
import { ProxyAgent } from 'proxy-agent';

/** Environment variables consulted for the proxy URL, highest priority first. */
export const PROXY_URL_SETTINGS = [
  'TOODLES_PROXY_URL',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
] as const;
export type ProxyUrlSetting = (typeof PROXY_URL_SETTINGS)[number];

export const NO_PROXY_SETTINGS = ['NO_PROXY', 'no_proxy'] as const;
export type NoProxySetting = (typeof NO_PROXY_SETTINGS)[number];

/** Values of TOODLES_PROXY_URL that force a direct connection even if HTTPS_PROXY etc. are set. */
const DIRECT_WORDS = new Set(['direct', 'none', 'off']);

const SUPPORTED_PROXY_PROTOCOLS = new Set([
  'http:',
  'https:',
  'socks:',
  'socks4:',
  'socks4a:',
  'socks5:',
  'socks5h:',
]);

/**
 * A proxy setting that cannot be used. `setting` names the environment variable; the config module
 * maps this error to exit 78 (EX_CONFIG). The message never contains the proxy's credentials.
 */
export class ProxyConfigError extends Error {
  override readonly name = 'ProxyConfigError';
  constructor(
    readonly setting: string,
    detail: string,
  ) {
    super(`${setting}: ${detail}`);
  }
}

export interface NoProxyEntry {
  /** lower-case host or domain suffix without leading "." / "*."; "*" matches everything */
  host: string;
  /** true when the entry was written ".example.com" or "*.example.com" (subdomains only) */
  subdomainsOnly: boolean;
  port?: number;
}

export interface ProxySettings {
  /** The proxy to use, or null for direct connections. Contains credentials: never log it. */
  readonly proxyUrl: URL | null;
  /** The variable the proxy came from (null when direct and nothing was set). */
  readonly source: ProxyUrlSetting | null;
  /** Parsed NO_PROXY entries. */
  readonly noProxy: readonly NoProxyEntry[];
  /** The variable NO_PROXY came from (null when unset). */
  readonly noProxySource: NoProxySetting | null;
  /** The raw NO_PROXY text (not secret), for logging. */
  readonly noProxyRaw: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function firstSet<K extends string>(env: Env, keys: readonly K[]): { key: K; value: string } | null {
  for (const key of keys) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') return { key, value: value.trim() };
  }
  return null;
}

/**
 * Parse one proxy URL. A value without a scheme ("proxy.corp:3128") is taken as http://, as curl
 * does. Errors name `setting` and never echo the value (it may hold a password).
 */
export function parseProxyUrl(value: string, setting: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ProxyConfigError(setting, 'is not a valid URL (expected http://[user:password@]host:port)');
  }
  if (!SUPPORTED_PROXY_PROTOCOLS.has(url.protocol)) {
    throw new ProxyConfigError(
      setting,
      `unsupported proxy scheme "${url.protocol.replace(/:$/, '')}" (use http, https or socks5)`,
    );
  }
  if (url.hostname === '') {
    throw new ProxyConfigError(setting, 'has no host (expected http://[user:password@]host:port)');
  }
  return url;
}

/** Parse NO_PROXY: comma or whitespace separated hosts, ".domain", "*.domain", "host:port", "*". */
export function parseNoProxy(value: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const raw of value.split(/[\s,]+/)) {
    let item = raw.trim().toLowerCase();
    if (item === '') continue;
    if (item === '*') {
      entries.push({ host: '*', subdomainsOnly: false });
      continue;
    }
    let port: number | undefined;
    // "[::1]:8080", "[::1]", "host:8080"; a bare IPv6 address has several colons and no port.
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
    if (bracketed) {
      item = bracketed[1] ?? '';
      if (bracketed[2] !== undefined) port = Number(bracketed[2]);
    } else {
      const hostPort = /^([^:]+):(\d+)$/.exec(item);
      if (hostPort) {
        item = hostPort[1] ?? '';
        port = Number(hostPort[2]);
      }
    }
    let subdomainsOnly = false;
    if (item.startsWith('*.')) {
      item = item.slice(2);
      subdomainsOnly = true;
    } else if (item.startsWith('.')) {
      item = item.slice(1);
      subdomainsOnly = true;
    }
    if (item === '') continue;
    entries.push(port === undefined ? { host: item, subdomainsOnly } : { host: item, subdomainsOnly, port });
  }
  return entries;
}

/**
 * Resolve the proxy settings from the environment. Throws ProxyConfigError for an unusable URL.
 * `TOODLES_PROXY_URL=direct` (or none/off) forces direct connections whatever else is set.
 */
export function resolveProxySettings(env: Env = process.env): ProxySettings {
  const noProxyFound = firstSet(env, NO_PROXY_SETTINGS);
  const noProxyRaw = noProxyFound?.value ?? '';
  const noProxy = parseNoProxy(noProxyRaw);
  const noProxySource = noProxyFound?.key ?? null;

  const found = firstSet(env, PROXY_URL_SETTINGS);
  if (!found) return { proxyUrl: null, source: null, noProxy, noProxySource, noProxyRaw };
  if (found.key === 'TOODLES_PROXY_URL' && DIRECT_WORDS.has(found.value.toLowerCase())) {
    return { proxyUrl: null, source: found.key, noProxy, noProxySource, noProxyRaw };
  }
  return { proxyUrl: parseProxyUrl(found.value, found.key), source: found.key, noProxy, noProxySource, noProxyRaw };
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'ws:': 80, 'https:': 443, 'wss:': 443 };

/**
 * True when NO_PROXY says `target` must be reached directly. "example.com" matches the host and its
 * subdomains, ".example.com" / "*.example.com" subdomains only (Go's rules); "host:port" also
 * requires the port. No CIDR ranges.
 */
export function bypassesProxy(noProxy: readonly NoProxyEntry[], target: URL): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const port = target.port !== '' ? Number(target.port) : DEFAULT_PORTS[target.protocol];
  return noProxy.some((entry) => {
    if (entry.host === '*') return true;
    if (entry.port !== undefined && entry.port !== port) return false;
    if (host === entry.host) return !entry.subdomainsOnly;
    return host.endsWith(`.${entry.host}`);
  });
}

/**
 * The proxy URL (as a string, for proxy-agent) to use for `target`, or '' for a direct connection.
 * ws: and wss: targets are looked up as http: and https: (they go through a CONNECT tunnel).
 */
export function proxyForUrl(settings: ProxySettings, target: string | URL): string {
  if (!settings.proxyUrl) return '';
  let url: URL;
  try {
    url = typeof target === 'string' ? new URL(target) : target;
  } catch {
    return '';
  }
  if (bypassesProxy(settings.noProxy, url)) return '';
  return settings.proxyUrl.href;
}

/** `http://user:pw@host:3128/` -> `http://***@host:3128`. Never returns a credential. */
export function redactProxyUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return '<invalid proxy URL>';
  }
  const creds = parsed.username !== '' || parsed.password !== '' ? '***@' : '';
  return `${parsed.protocol}//${creds}${parsed.host}`;
}

/** One log-safe line: which proxy is in use, where it came from, and NO_PROXY. */
export function describeProxy(settings: ProxySettings): string {
  if (!settings.proxyUrl) {
    return settings.source === 'TOODLES_PROXY_URL'
      ? 'no proxy (direct connections, forced by TOODLES_PROXY_URL)'
      : 'no proxy (direct connections)';
  }
  const noProxy = settings.noProxySource ? `, ${settings.noProxySource}=${settings.noProxyRaw}` : '';
  return `proxy ${redactProxyUrl(settings.proxyUrl)} (from ${settings.source ?? '?'}${noProxy})`;
}

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
 * proxy-agent's ProxyAgent with our resolution (TOODLES_PROXY_URL, NO_PROXY, ws->http mapping) and
 * a connect timeout.
 */
class ToodlesProxyAgent extends ProxyAgent {
  readonly #connectTimeoutMs: number;
  readonly #proxyLabel: string;
  readonly #onProxyError: NonNullable<ProxyAgentOptions['onProxyError']>;
  /** The previous agent selection (see #select); settled, never rejects. */
  #selecting: Promise<unknown> = Promise.resolve();

  constructor(settings: ProxySettings, options: ProxyAgentOptions) {
    super({ getProxyForUrl: (url: string) => proxyForUrl(settings, url) });
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.#proxyLabel = settings.proxyUrl ? redactProxyUrl(settings.proxyUrl) : 'direct';
    const listener = options.onProxyError;
    this.#onProxyError = (err) => {
      try {
        listener?.(err);
      } catch {
        // a logging callback must not change what the request sees
      }
    };
  }

  override connect(req: ClientRequest, opts: Parameters<ProxyAgent['connect']>[1]): Promise<HttpAgent> {
    const ms = this.#connectTimeoutMs;
    if (ms > 0) {
      const timer = setTimeout(() => {
        if (req.destroyed) return;
        // req.destroy() before a socket is assigned emits nothing (Node waits for the socket), so
        // fail the socket assignment instead: Node then emits 'error' and 'close' on the request.
        // A socket that still arrives later is destroyed by Node because the request is destroyed.
        const r = req as unknown as { onSocket?: (socket: null, err: Error) => void };
        const err = new ProxyConnectTimeoutError(this.#proxyLabel, ms);
        this.#onProxyError(err);
        if (typeof r.onSocket === 'function') r.onSocket(null, err);
        else req.destroy(err);
      }, ms);
      timer.unref();
      const clear = (): void => clearTimeout(timer);
      req.once('socket', clear);
      req.once('close', clear);
      req.once('error', clear);
    }
    return this.#select(() => super.connect(req, opts));
  }

  /**
   * One agent selection at a time. ProxyAgent.connect() looks its per-proxy agent up in an LRU
   * cache, and on a miss awaits a dynamic import() before creating and caching one. Two requests
   * that miss concurrently (the SDK's first REST calls: people/me and the catalog) each create an
   * agent, and the second cache.set() disposes the first, and dispose is agent.destroy(): the first
   * request's socket, by then often connected and in flight, is destroyed ("socket hang up").
   * Serialising the selection (which does no network I/O, and on a cache hit takes a few
   * microtasks) makes every later request a cache hit on the one agent. See
   * test/proxy/agent-race.test.ts.
   */
  #select(pick: () => Promise<HttpAgent>): Promise<HttpAgent> {
    const picked = this.#selecting.then(pick).then((agent) => this.#nameProxyErrors(agent));
    this.#selecting = picked.catch(() => undefined);
    return picked;
  }

  /**
   * Make proxy failures say so. The per-proxy agent (http-proxy-agent / https-proxy-agent) opens the
   * TCP connection to the proxy, and for tunnels sends the CONNECT, inside its connect(); we wrap that
   * once per agent. A TCP failure becomes ProxyUnreachableError (instead of a bare "connect
   * ECONNREFUSED", indistinguishable from Webex being down). A refused CONNECT becomes
   * ProxyRefusedError: https-proxy-agent would otherwise replay the proxy's 407/502/503 as if the
   * target had answered it, so `ws` reports "Unexpected server response: 407" and a REST call sees a
   * 502 "from Webex". (Plain-http targets go to the proxy as absolute-URI requests: the proxy's
   * refusal is the response itself; only loopback test targets take that path.)
   */
  #nameProxyErrors(agent: HttpAgent): HttpAgent {
    if (agent === this.httpAgent || agent === this.httpsAgent || wrappedAgents.has(agent)) return agent;
    wrappedAgents.add(agent);
    const inner = agent as unknown as { connect: (req: ClientRequest, opts: ConnectOpts) => Promise<unknown> };
    const connect = inner.connect.bind(agent);
    const label = this.#proxyLabel;
    const report = this.#onProxyError;
    inner.connect = async (req, opts) => {
      let status: { statusCode?: number; statusText?: string } | undefined;
      const onProxyConnect = (answer: { statusCode?: number; statusText?: string }): void => {
        status = answer;
      };
      req.once('proxyConnect', onProxyConnect);
      let socket: unknown;
      try {
        socket = await connect(req, opts);
      } catch (err) {
        if (err instanceof ProxyConnectTimeoutError || err instanceof ProxyRefusedError) throw err;
        const unreachable = new ProxyUnreachableError(label, err);
        report(unreachable);
        throw unreachable;
      } finally {
        req.off('proxyConnect', onProxyConnect);
      }
      const target = `${String(opts.host)}:${String(opts.port)}`;
      const code = status?.statusCode;
      if (code !== undefined && code !== 200) {
        (socket as { destroy?: () => void }).destroy?.();
        const refused = new ProxyRefusedError(label, target, code, status?.statusText ?? '');
        report(refused);
        throw refused;
      }
      if (code === undefined) {
        // A plain-http request (absolute URI) through the proxy: the proxy's refusal is the response
        // itself. Only 407 is unambiguously the proxy's; it is still delivered as the response.
        req.once('response', (res: { statusCode?: number; statusMessage?: string }) => {
          if (res.statusCode === 407) report(new ProxyRefusedError(label, target, 407, res.statusMessage ?? ''));
        });
      }
      return socket;
    };
    return agent;
  }
}

type ConnectOpts = Parameters<ProxyAgent['connect']>[1];

/** Per-proxy agents whose connect() #nameProxyErrors has wrapped already. */
const wrappedAgents = new WeakSet<object>();

/**
 * Agent for the Mercury websocket: pass as `config.defaultMercuryOptions.agent` (the SDK hands it to
 * the `ws` constructor). Returns undefined when no proxy is configured (ws connects directly).
 * The websocket goes through an HTTP CONNECT tunnel, for ws:// and wss:// alike.
 */
export function createMercuryAgent(settings: ProxySettings, options: ProxyAgentOptions = {}): HttpAgent | undefined {
  if (!settings.proxyUrl) return undefined;
  return new ToodlesProxyAgent(settings, options);
}

/**
 * Agent for REST calls (give it to installRestProxy). http:// targets go as absolute-URI requests to
 * the proxy, https:// targets through a CONNECT tunnel. No keep-alive: every call opens a fresh
 * connection, so a proxy that silently kills idle connections cannot strand a pooled one.
 * Returns undefined when no proxy is configured.
 */
export function createRestAgent(settings: ProxySettings, options: ProxyAgentOptions = {}): HttpAgent | undefined {
  if (!settings.proxyUrl) return undefined;
  return new ToodlesProxyAgent(settings, options);
}

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
 * Route every REST call of one SDK instance through `agent` (from createRestAgent; undefined means
 * direct). Call it right after `WebexCore.init(...)`, before anything else uses the instance; every
 * SDK plugin calls `this.webex.request(...)`, so wrapping the instance's `request` covers them all.
 * (WebexCore's `request` is a set-once ampersand prop: we shadow it with an own property.)
 * Safe with no proxy: it still stops `request` from reading HTTP(S)_PROXY on its own, so the
 * settings resolved here are the only ones in force. Do not also set `config.proxy`.
 * Returns a function that restores the original.
 */
export function installRestProxy(webex: WebexLike, agent: HttpAgent | undefined, restOptions: RestProxyOptions = {}): () => void {
  const target = webex as unknown as { request: (...args: unknown[]) => unknown };
  const original = target.request;
  const ownBefore = Object.getOwnPropertyDescriptor(target, 'request');
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
  Object.defineProperty(target, 'request', { value: wrapped, writable: true, configurable: true, enumerable: false });
  return () => {
    if (target.request !== wrapped) return;
    if (ownBefore) Object.defineProperty(target, 'request', ownBefore);
    else delete (target as { request?: unknown }).request;
  };
}
