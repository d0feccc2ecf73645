/**
 * A small forward proxy for tests (issue 6), loopback only, that can misbehave like a corporate proxy.
 *
 * - CONNECT host:port -> a raw TCP tunnel (what proxy-agent uses for https:// and for ws:// / wss://).
 * - Absolute-URI requests (GET http://127.0.0.1:8080/x) -> forwarded as plain HTTP (what proxy-agent's
 *   HttpProxyAgent sends for http:// REST targets, e.g. the loopback simulator).
 *
 * Switchable at run time:
 * - setCut({idleMs, lifetimeMs}): established tunnels silently stop forwarding after that much idle
 *   time / age; both TCP connections stay open and no byte moves any more (the failure the old bot
 *   fought). cutAll() does it to every open tunnel right now.
 * - refuse(407|502|503): new CONNECTs (and plain requests) get that status; 407 carries
 *   Proxy-Authenticate.
 * - blackhole(): new connections are accepted and never answered.
 * - down(): the listener closes and every connection is destroyed (TCP refused); up() re-listens on
 *   the same port.
 * - forward(): back to normal for new connections.
 *
 * Every request and tunnel is recorded (records) so tests can prove traffic went through it.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

export type RefuseStatus = 407 | 502 | 503;
export type ProxyMode = 'forward' | 'refuse' | 'blackhole' | 'down';

export interface ProxyRecord {
  seq: number;
  /** 'CONNECT' for tunnels, else the HTTP method of a forwarded plain request */
  method: string;
  /** host:port for CONNECT, the absolute URI for plain requests */
  target: string;
  kind: 'tunnel' | 'http';
  /** ms since epoch */
  at: number;
  /** what the proxy did: 'tunnel' | 'forwarded' | 'refused 407' | 'blackholed' | 'upstream error' ... */
  outcome: string;
  /** the Proxy-Authorization header, if the client sent one */
  proxyAuthorization?: string;
}

export interface CutPolicy {
  /** cut a tunnel after this long without a byte in either direction */
  idleMs?: number;
  /** cut a tunnel this long after it was established */
  lifetimeMs?: number;
}

export interface TunnelInfo {
  id: number;
  target: string;
  openedAt: number;
  lastActivityAt: number;
  bytesUp: number;
  bytesDown: number;
  cut: boolean;
  cutAt?: number;
  cutReason?: 'idle' | 'lifetime' | 'manual';
}

interface Tunnel extends TunnelInfo {
  client: Duplex;
  upstream: net.Socket;
}

export interface CuttingProxyOptions {
  /** listen on this port (default: a free one) */
  port?: number;
  /** if set, requests without `Proxy-Authorization: Basic base64(user:pass)` get 407 */
  auth?: { user: string; pass: string };
}

/**
 * Events: 'record' (ProxyRecord), 'cut' (TunnelInfo) when a tunnel is silently cut,
 * 'tunnel-closed' (TunnelInfo).
 */
export class CuttingProxy extends EventEmitter {
  readonly records: ProxyRecord[] = [];
  #server: http.Server;
  #port = 0;
  #mode: ProxyMode = 'forward';
  #refuseStatus: RefuseStatus = 502;
  #cut: CutPolicy = {};
  #tunnels = new Map<number, Tunnel>();
  #sockets = new Set<net.Socket>();
  #upstreams = new Set<net.Socket>();
  #seq = 0;
  #tunnelSeq = 0;
  #ticker: NodeJS.Timeout;
  #auth: string | undefined;

  private constructor(options: CuttingProxyOptions) {
    super();
    this.#auth = options.auth ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.pass}`).toString('base64')}` : undefined;
    this.#server = this.#makeServer();
    this.#ticker = setInterval(() => this.#enforce(), 25);
    this.#ticker.unref();
  }

  static async start(options: CuttingProxyOptions = {}): Promise<CuttingProxy> {
    const proxy = new CuttingProxy(options);
    await proxy.#listen(options.port ?? 0);
    return proxy;
  }

  get port(): number {
    return this.#port;
  }
  /** http://127.0.0.1:<port> */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }
  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Normal forwarding for new connections (does not revive cut tunnels). */
  forward(): void {
    this.#mode = 'forward';
  }
  /** New CONNECTs and plain requests get `status`. */
  refuse(status: RefuseStatus): void {
    this.#mode = 'refuse';
    this.#refuseStatus = status;
  }
  /** New connections are accepted and never answered. */
  blackhole(): void {
    this.#mode = 'blackhole';
  }
  /** Silent cut policy for tunnels (existing and new); {} turns it off. */
  setCut(policy: CutPolicy): void {
    this.#cut = { ...policy };
  }
  /** Silently cut every open tunnel now. */
  cutAll(): void {
    for (const t of this.#tunnels.values()) this.#cutTunnel(t, 'manual');
  }
  /** Stop listening and destroy every connection: the proxy is gone (TCP refused). */
  async down(): Promise<void> {
    if (this.#mode === 'down') return;
    this.#mode = 'down';
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    for (const s of this.#upstreams) s.destroy();
    this.#tunnels.clear();
    await closed;
  }
  /** Listen again on the same port, forwarding. */
  async up(): Promise<void> {
    if (this.#mode !== 'down') return;
    this.#server = this.#makeServer();
    await this.#listen(this.#port);
    this.#mode = 'forward';
  }

  /** Tunnels currently open (cut ones included, until their TCP closes). */
  tunnels(): TunnelInfo[] {
    return [...this.#tunnels.values()].map(({ client: _c, upstream: _u, ...info }) => ({ ...info }));
  }
  /** Records matching a method and/or a target substring. */
  find(filter: { method?: string; target?: string | RegExp; kind?: 'tunnel' | 'http'; outcome?: string }): ProxyRecord[] {
    return this.records.filter(
      (r) =>
        (filter.method === undefined || r.method === filter.method) &&
        (filter.outcome === undefined || r.outcome === filter.outcome) &&
        (filter.kind === undefined || r.kind === filter.kind) &&
        (filter.target === undefined ||
          (typeof filter.target === 'string' ? r.target.includes(filter.target) : filter.target.test(r.target))),
    );
  }
  /** Resolves with the first record (past or future) matching `pred`. */
  waitForRecord(pred: (r: ProxyRecord) => boolean, timeoutMs = 10_000): Promise<ProxyRecord> {
    const hit = this.records.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('record', on);
        reject(new Error(`no matching proxy record within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (r: ProxyRecord): void => {
        if (!pred(r)) return;
        clearTimeout(timer);
        this.off('record', on);
        resolve(r);
      };
      this.on('record', on);
    });
  }
  /** Resolves with the next tunnel that gets cut. */
  waitForCut(timeoutMs = 10_000): Promise<TunnelInfo> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('cut', on);
        reject(new Error(`no tunnel cut within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (t: TunnelInfo): void => {
        clearTimeout(timer);
        this.off('cut', on);
        resolve(t);
      };
      this.on('cut', on);
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#ticker);
    await this.down();
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------------------------------------

  #makeServer(): http.Server {
    const server = http.createServer({ keepAlive: false });
    server.on('connection', (socket: net.Socket) => {
      if (this.#mode === 'down') {
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
    });
    server.on('request', (req, res) => this.#onRequest(req, res));
    server.on('connect', (req, socket, head) => this.#onConnect(req, socket, head));
    server.on('upgrade', (req, socket) => {
      this.#record('http', req.method ?? '?', req.url ?? '?', 'upgrade refused 501', req);
      socket.end('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    return server;
  }

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        const addr = this.#server.address();
        if (addr && typeof addr === 'object') this.#port = addr.port;
        resolve();
      });
    });
  }

  #record(kind: 'tunnel' | 'http', method: string, target: string, outcome: string, req: http.IncomingMessage): ProxyRecord {
    const rec: ProxyRecord = { seq: ++this.#seq, method, target, kind, at: Date.now(), outcome };
    const auth = req.headers['proxy-authorization'];
    if (typeof auth === 'string') rec.proxyAuthorization = auth;
    this.records.push(rec);
    this.emit('record', rec);
    return rec;
  }

  /** A refusal status, or null to go ahead; also handles auth. */
  #gate(req: http.IncomingMessage): RefuseStatus | 'blackhole' | null {
    if (this.#mode === 'blackhole') return 'blackhole';
    if (this.#mode === 'refuse') return this.#refuseStatus;
    if (this.#auth !== undefined && req.headers['proxy-authorization'] !== this.#auth) return 407;
    return null;
  }

  #onConnect(req: http.IncomingMessage, client: Duplex, head: Buffer): void {
    client.on('error', () => {});
    const target = req.url ?? '';
    const gate = this.#gate(req);
    if (gate === 'blackhole') {
      this.#record('tunnel', 'CONNECT', target, 'blackholed', req);
      return;
    }
    if (gate !== null) {
      this.#record('tunnel', 'CONNECT', target, `refused ${gate}`, req);
      client.end(statusLine(gate));
      return;
    }
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
    if (!m) {
      this.#record('tunnel', 'CONNECT', target, 'bad target 400', req);
      client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const rec = this.#record('tunnel', 'CONNECT', target, 'connecting', req);
    const upstream = net.connect(Number(m[2]), m[1]);
    this.#upstreams.add(upstream);
    upstream.on('close', () => this.#upstreams.delete(upstream));
    upstream.once('error', () => {
      if (rec.outcome === 'connecting') {
        rec.outcome = 'upstream error 502';
        client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      } else {
        client.destroy();
      }
    });
    upstream.once('connect', () => {
      rec.outcome = 'tunnel';
      const now = Date.now();
      const tunnel: Tunnel = {
        id: ++this.#tunnelSeq,
        target,
        openedAt: now,
        lastActivityAt: now,
        bytesUp: 0,
        bytesDown: 0,
        cut: false,
        client,
        upstream,
      };
      this.#tunnels.set(tunnel.id, tunnel);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) {
        tunnel.bytesUp += head.length;
        upstream.write(head);
      }
      client.on('data', (chunk: Buffer) => {
        if (tunnel.cut) return; // swallowed: the proxy no longer forwards
        tunnel.bytesUp += chunk.length;
        tunnel.lastActivityAt = Date.now();
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (tunnel.cut) return;
        tunnel.bytesDown += chunk.length;
        tunnel.lastActivityAt = Date.now();
        client.write(chunk);
      });
      const end = (): void => {
        if (!this.#tunnels.delete(tunnel.id)) return;
        client.destroy();
        upstream.destroy();
        this.emit('tunnel-closed', this.#info(tunnel));
      };
      // A live tunnel passes closes through; a cut one keeps the other side open (silence).
      client.on('close', () => (tunnel.cut ? this.#tunnels.delete(tunnel.id) && upstream.destroy() : end()));
      upstream.on('close', () => {
        if (!tunnel.cut) end();
      });
      client.on('end', () => {
        if (!tunnel.cut) upstream.end();
      });
      upstream.on('end', () => {
        if (!tunnel.cut) client.end();
      });
    });
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const target = req.url ?? '';
    const method = req.method ?? 'GET';
    const gate = this.#gate(req);
    if (gate === 'blackhole') {
      this.#record('http', method, target, 'blackholed', req);
      return;
    }
    if (gate !== null) {
      this.#record('http', method, target, `refused ${gate}`, req);
      res.writeHead(
        gate,
        gate === 407 ? { 'proxy-authenticate': 'Basic realm="cutting-proxy"', connection: 'close' } : { connection: 'close' },
      );
      res.end();
      return;
    }
    let url: URL;
    try {
      url = new URL(target);
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      this.#record('http', method, target, 'bad target 400', req);
      res.writeHead(400, { connection: 'close' });
      res.end();
      return;
    }
    const rec = this.#record('http', method, target, 'forwarding', req);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    headers.connection = 'close';
    const upstreamReq = http.request(
      { host: url.hostname, port: url.port || 80, method, path: `${url.pathname}${url.search}`, headers, agent: false },
      (upstreamRes) => {
        rec.outcome = `forwarded ${upstreamRes.statusCode ?? 0}`;
        const resHeaders = { ...upstreamRes.headers, connection: 'close' };
        res.writeHead(upstreamRes.statusCode ?? 502, resHeaders);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('socket', (s) => {
      this.#upstreams.add(s);
      s.on('close', () => this.#upstreams.delete(s));
    });
    upstreamReq.on('error', () => {
      rec.outcome = 'upstream error 502';
      if (!res.headersSent) res.writeHead(502, { connection: 'close' });
      res.end();
    });
    req.pipe(upstreamReq);
  }

  #cutTunnel(t: Tunnel, reason: 'idle' | 'lifetime' | 'manual'): void {
    if (t.cut) return;
    t.cut = true;
    t.cutAt = Date.now();
    t.cutReason = reason;
    this.emit('cut', this.#info(t));
  }

  #enforce(): void {
    const { idleMs, lifetimeMs } = this.#cut;
    if (idleMs === undefined && lifetimeMs === undefined) return;
    const now = Date.now();
    for (const t of this.#tunnels.values()) {
      if (t.cut) continue;
      if (lifetimeMs !== undefined && now - t.openedAt >= lifetimeMs) this.#cutTunnel(t, 'lifetime');
      else if (idleMs !== undefined && now - t.lastActivityAt >= idleMs) this.#cutTunnel(t, 'idle');
    }
  }

  #info(t: Tunnel): TunnelInfo {
    const { client: _c, upstream: _u, ...info } = t;
    return { ...info };
  }
}

function statusLine(status: RefuseStatus): string {
  const text = { 407: 'Proxy Authentication Required', 502: 'Bad Gateway', 503: 'Service Unavailable' }[status];
  const extra = status === 407 ? 'Proxy-Authenticate: Basic realm="cutting-proxy"\r\n' : '';
  return `HTTP/1.1 ${status} ${text}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`;
}
