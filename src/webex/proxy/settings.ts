/**
 * Which proxy to use, from the environment: TOODLES_PROXY_URL (wins), else HTTPS_PROXY, https_proxy,
 * HTTP_PROXY, http_proxy; NO_PROXY / no_proxy honoured. Also its log-safe description.
 *
 * Not proxy-from-env's lookup (which proxy-agent would use by default): it reads only process.env,
 * so TOODLES_PROXY_URL could not win; it looks websocket URLs up in WS_PROXY/WSS_PROXY, so a
 * websocket would silently go direct with only HTTPS_PROXY set; it prefers no_proxy to NO_PROXY;
 * and its plain "example.com" entry does not cover subdomains.
 */

/** Environment variables consulted for the proxy URL, highest priority first. */
export const PROXY_URL_SETTINGS = ['TOODLES_PROXY_URL', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;
export type ProxyUrlSetting = (typeof PROXY_URL_SETTINGS)[number];

export const NO_PROXY_SETTINGS = ['NO_PROXY', 'no_proxy'] as const;
export type NoProxySetting = (typeof NO_PROXY_SETTINGS)[number];

/** Values of TOODLES_PROXY_URL that force a direct connection even if HTTPS_PROXY etc. are set. */
const DIRECT_WORDS = new Set(['direct', 'none', 'off']);

const SUPPORTED_PROXY_PROTOCOLS = new Set(['http:', 'https:', 'socks:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:']);

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
    throw new ProxyConfigError(setting, `unsupported proxy scheme "${url.protocol.replace(/:$/, '')}" (use http, https or socks5)`);
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
  const host = target.hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
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
