/** The proxy agent itself, loaded only when a proxy is configured (agent.ts makes it). */
import type { Agent as HttpAgent, ClientRequest } from 'node:http';
import { ProxyAgent } from 'proxy-agent';
import { ProxyConnectTimeoutError, ProxyRefusedError, ProxyUnreachableError, type ProxyAgentOptions } from './agent.js';
import { proxyForUrl, redactProxyUrl, type ProxySettings } from './settings.js';

/**
 * proxy-agent's ProxyAgent with our resolution (TOODLES_PROXY_URL, NO_PROXY, ws->http mapping) and
 * a connect timeout.
 */
export class ToodlesProxyAgent extends ProxyAgent {
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
