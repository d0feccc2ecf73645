import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ProxyConfigError, resolveProxySettings, type ProxySettings } from './webex/proxy/settings.js';
import { unwritableReason } from './util/writable-dir.js';
import type { AccessSettings } from './bot/access.js';
import type { CommandSettings } from './commands/index.js';
import type { ClusterSettings } from './cluster/settings.js';
import { parseListenAddress, type ListenAddress } from './metrics/listen.js';
import { MODULE_SETTING_PREFIX } from './modules/api.js';

export const EXIT_CONFIG = 78; // EX_CONFIG: systemd's RestartPreventExitStatus keeps a bad config from restart-looping

export interface Config {
  token: string;
  u2cUrl: string;
  hydraUrl: string;
  reconnectIntervalMs: number;
  drainTimeoutMs: number;
  logDir?: string;
  logLevel: LogLevel;
  stateDir?: string;
  /** Where Webex traffic goes: TOODLES_PROXY_URL, else HTTPS_PROXY/HTTP_PROXY, minus NO_PROXY. */
  proxy: ProxySettings;
  /** Who may use the bot: TOODLES_ALLOWED_EMAILS, _DOMAINS, _ROOMS. */
  access: AccessSettings;
  commands: CommandSettings;
  /** Command modules: their directory (TOODLES_COMMANDS_DIR; none loaded when unset) and the TOODLES_MODULE_* settings they may read. */
  modules: ModuleSettings;
  /** Audit records older than this many days are pruned. */
  activityDays: number;
  /** After a gap, messages up to this old are caught up on and run; older ones get a "send it again" (0: no catch-up). */
  catchUpMaxAgeMs: number;
  /** /healthz and /metrics listen here (TOODLES_METRICS_LISTEN); off when unset. */
  metricsListen?: ListenAddress;
  /** The control socket's directory: TOODLES_RUNTIME_DIR, else systemd's RUNTIME_DIRECTORY; no socket without either. */
  runtimeDir?: string;
  /** Set when several instances share PostgreSQL (the database-url credential or TOODLES_DATABASE_URL). */
  cluster?: ClusterSettings;
}

export interface ModuleSettings {
  dir?: string;
  settings: Readonly<Record<string, string>>;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A setting that cannot be used; the message is the one line the operator sees. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** No setting needs more; a longer one is a mistake (a pasted file), and it would swamp every message quoting it. */
export const MAX_SETTING_LENGTH = 4096;
const SHOWN_LENGTH = 80;
/** The variables loadConfig reads besides TOODLES_*, checked for length before anything else looks at it. */
const SETTINGS = ['WEBEX_BOT_TOKEN', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

function checkLengths(env: Env): void {
  for (const name of [...SETTINGS, ...Object.keys(env).filter((n) => n.startsWith('TOODLES_'))]) {
    const length = env[name]?.length ?? 0;
    if (length > MAX_SETTING_LENGTH) throw new ConfigError(name, `is ${length} characters long; at most ${MAX_SETTING_LENGTH}`);
  }
}

/** A value as an error message may quote it: URL credentials hidden, cut short. */
export function shown(raw: string): string {
  const safe = raw.replace(/^([a-z][\w+.-]*:\/\/)[^/?#]*@/i, '$1[redacted]@');
  return JSON.stringify(safe.length > SHOWN_LENGTH ? `${safe.slice(0, SHOWN_LENGTH)}...` : safe);
}

export function seconds(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback * 1000;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || value < min) {
    throw new ConfigError(name, `must be a number of seconds >= ${min} (got ${shown(raw)})`);
  }
  return Math.round(value * 1000);
}

export function httpUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL (got ${shown(raw)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `must be an http(s) URL (got ${shown(raw)})`);
  }
  return raw.replace(/\/+$/, '');
}

/**
 * A secret: the systemd credential of that name, else the environment variable. Under systemd the
 * credential is the secret; one also left in the environment would be stale or a leak.
 */
function readSecret(env: Env, name: string, credential: string): { value: string; source: string } | undefined {
  const fromEnv = env[name]?.trim();
  const credentials = env.CREDENTIALS_DIRECTORY;
  if (credentials) {
    const file = join(credentials, credential);
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      // no such credential: the environment may still provide it
    }
    if (text !== undefined) {
      if (fromEnv) {
        throw new ConfigError(
          name,
          `set in the environment while the ${credential} credential (${file}) also provides it; ` +
            `remove ${name} from the environment (/etc/toodles/toodles.env): it belongs only in the credential`,
        );
      }
      return { value: text, source: `credential ${file}` };
    }
  }
  return fromEnv ? { value: fromEnv, source: name } : undefined;
}

/** A Webex token, from the credential or the environment (see readSecret). */
export function readToken(env: Env, name = 'WEBEX_BOT_TOKEN', credential = 'webex-bot-token'): string {
  const secret = readSecret(env, name, credential);
  if (!secret) {
    const dir = env.CREDENTIALS_DIRECTORY;
    if (dir) throw new ConfigError(name, `not set and the credential file ${join(dir, credential)} cannot be read`);
    throw new ConfigError(name, `not set (set it, or provide the ${credential} credential)`);
  }
  return validToken(secret.source, secret.value);
}

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];
const isInstanceName = (i: string) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(i);

function instanceName(env: Env, name: string, fallback?: string): string {
  const raw = env[name]?.trim() || fallback;
  if (!raw) throw new ConfigError(name, 'not set; with a database every instance must know which one answers while it is away');
  if (!isInstanceName(raw)) throw new ConfigError(name, `must be letters, digits, '.', '_' or '-', at most 63 (got ${shown(raw)})`);
  return raw;
}

/** The cluster settings, when a database URL is configured; the URL itself is never quoted (it may hold a password). */
export function clusterSettings(env: Env): ClusterSettings | undefined {
  const databaseUrl = readDatabaseUrl(env);
  if (databaseUrl === undefined) return undefined;
  return {
    databaseUrl,
    instance: instanceName(env, 'TOODLES_INSTANCE', hostname().split('.')[0]),
    preferredInstance: instanceName(env, 'TOODLES_PREFERRED_INSTANCE'),
  };
}

/** The database URL alone (the database-url credential, else TOODLES_DATABASE_URL), checked; for tools like `toodles activity`. */
export function readDatabaseUrl(env: Env): string | undefined {
  const secret = readSecret(env, 'TOODLES_DATABASE_URL', 'database-url');
  if (!secret) return undefined;
  const source = secret.source;
  let url: URL;
  try {
    url = new URL(secret.value);
  } catch {
    throw new ConfigError(source, 'is not a URL (expected postgresql://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new ConfigError(source, `must be a postgresql:// URL (got ${url.protocol}//...)`);
  }
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) {
    throw new ConfigError(source, `sslmode must be one of ${SSL_MODES.join(', ')} (got ${shown(sslmode)})`);
  }
  return secret.value;
}

function validToken(source: string, token: string): string {
  // Never echo the value: a malformed token is still mostly a secret.
  if (/\s/.test(token)) throw new ConfigError(source, 'the bot token contains white space');
  if (token.length < 20) throw new ConfigError(source, 'the bot token is too short to be a Webex bot token');
  // Webex bot tokens are <secret>_<cluster>_<org uuid>; the SDK cannot even find its services without that shape.
  const botToken = token.split('_').length >= 3;
  const jwt = /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
  if (!botToken && !jwt) throw new ConfigError(source, 'not a Webex bot token (expected <token>_<cluster>_<org id>)');
  return token;
}

export function optionalDir(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!raw.startsWith('/')) throw new ConfigError(name, `must be an absolute path (got ${shown(raw)})`);
  return raw;
}

export function logLevel(env: Env): LogLevel {
  const raw = (env.TOODLES_LOG_LEVEL?.trim() || 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new ConfigError('TOODLES_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got ${shown(raw)})`);
  }
  return raw as LogLevel;
}

export function proxySettings(env: Env): ProxySettings {
  try {
    return resolveProxySettings(env);
  } catch (err) {
    if (err instanceof ProxyConfigError) throw new ConfigError(err.setting, err.message.slice(err.setting.length + 2));
    throw err;
  }
}

/** A comma-separated list, lower-cased unless it holds ids; each item checked by `valid`. */
function list(env: Env, name: string, what: string, valid: (item: string) => boolean, lower = true): string[] {
  const items = (env[name] ?? '')
    .split(',')
    .map((i) => (lower ? i.trim().toLowerCase() : i.trim()))
    .filter(Boolean);
  const bad = items.find((i) => !valid(i));
  if (bad !== undefined) throw new ConfigError(name, `${shown(bad)} is not ${what}`);
  return items;
}

const isEmail = (i: string) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(i);
const isDomain = (i: string) => /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(i);
const isRoomId = (i: string) => /^[\w=-]+$/.test(i);

function accessSettings(env: Env): AccessSettings {
  return {
    emails: list(env, 'TOODLES_ALLOWED_EMAILS', 'an e-mail address', isEmail),
    domains: list(env, 'TOODLES_ALLOWED_DOMAINS', 'a domain (example.com)', (d) => isDomain(d.replace(/^@/, ''))).map((d) =>
      d.replace(/^@/, ''),
    ),
    rooms: list(env, 'TOODLES_ALLOWED_ROOMS', 'a Webex room id', isRoomId, false),
  };
}

function commandSettings(env: Env): CommandSettings {
  const testingRoom = list(env, 'TOODLES_TESTING_ROOM', 'a Webex room id', isRoomId, false);
  if (testingRoom.length > 1) throw new ConfigError('TOODLES_TESTING_ROOM', 'must be one room id');
  const testingRooms = list(env, 'TOODLES_TESTING_ROOMS', 'a Webex room id', isRoomId, false);
  return {
    adminEmails: list(env, 'TOODLES_ADMIN_EMAILS', 'an e-mail address', isEmail),
    ...(testingRoom[0] ? { testingRoom: testingRoom[0] } : {}),
    ...(testingRooms.length ? { testingRooms } : {}),
  };
}

function moduleSettings(env: Env): ModuleSettings {
  const settings = Object.entries(env).filter((e): e is [string, string] => e[0].startsWith(MODULE_SETTING_PREFIX) && e[1] !== undefined);
  return { dir: optionalDir(env, 'TOODLES_COMMANDS_DIR'), settings: Object.fromEntries(settings) };
}

function days(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ConfigError(name, `must be a whole number of days >= 1 (got ${shown(raw)})`);
  return Number(raw);
}

/** TOODLES_RUNTIME_DIR, else systemd's RUNTIME_DIRECTORY (its first entry). */
export function runtimeDir(env: Env): string | undefined {
  return optionalDir(env, 'TOODLES_RUNTIME_DIR') ?? (env.RUNTIME_DIRECTORY?.split(':')[0]?.trim() || undefined);
}

function metricsListen(env: Env): ListenAddress | undefined {
  const raw = env.TOODLES_METRICS_LISTEN?.trim();
  if (!raw) return undefined;
  try {
    return parseListenAddress(raw);
  } catch (err) {
    throw new ConfigError('TOODLES_METRICS_LISTEN', (err as Error).message);
  }
}

/** Reads and validates the whole configuration up front, so a bad value fails at start, not at 3 a.m. */
export function loadConfig(env: Env = process.env): Config {
  checkLengths(env);
  const reconnectIntervalMs = seconds(env, 'TOODLES_RECONNECT_INTERVAL_S', 600, 0.1);
  // Unset, the drain is 10 s or half the interval, whichever is shorter; set, it must fit.
  const drainTimeoutMs = env.TOODLES_DRAIN_TIMEOUT_S?.trim()
    ? seconds(env, 'TOODLES_DRAIN_TIMEOUT_S', 10, 0)
    : Math.min(10_000, Math.floor(reconnectIntervalMs / 2));
  if (drainTimeoutMs >= reconnectIntervalMs) {
    throw new ConfigError('TOODLES_DRAIN_TIMEOUT_S', 'must be shorter than TOODLES_RECONNECT_INTERVAL_S');
  }
  return {
    token: readToken(env),
    u2cUrl: httpUrl(env, 'TOODLES_WEBEX_U2C_URL', 'https://u2c.wbx2.com/u2c/api/v1'),
    hydraUrl: httpUrl(env, 'TOODLES_WEBEX_HYDRA_URL', 'https://webexapis.com/v1'),
    reconnectIntervalMs,
    drainTimeoutMs,
    logDir: optionalDir(env, 'TOODLES_LOG_DIR'),
    logLevel: logLevel(env),
    stateDir: optionalDir(env, 'TOODLES_STATE_DIR'),
    proxy: proxySettings(env),
    access: accessSettings(env),
    commands: commandSettings(env),
    modules: moduleSettings(env),
    activityDays: days(env, 'TOODLES_ACTIVITY_DAYS', 365),
    catchUpMaxAgeMs: seconds(env, 'TOODLES_CATCHUP_MAX_AGE_S', 3600, 0),
    metricsListen: metricsListen(env),
    runtimeDir: runtimeDir(env),
    cluster: clusterSettings(env),
  };
}

/**
 * The directories the daemon writes, checked at start (after loadConfig): created if missing, and a
 * probe written, so an unwritable one is a one-line configuration error instead of a stack trace
 * (logs) or a bot that silently stops answering (state). A full one is not a configuration error:
 * refusing to start would leave the bot deaf until someone frees space, so the daemon starts and
 * degrades (state.write_failed, log.files_failed); the returned lines say so.
 */
export function checkDirectories(config: Pick<Config, 'logDir' | 'stateDir'>): string[] {
  const full: string[] = [];
  for (const [setting, dir] of [
    ['TOODLES_LOG_DIR', config.logDir],
    ['TOODLES_STATE_DIR', config.stateDir],
  ] as const) {
    const problem = dir === undefined ? undefined : unwritableReason(dir);
    if (problem && /^E(NOSPC|DQUOT)\b/.test(problem))
      full.push(`${setting}: ${dir} is full (${problem}); starting anyway, without saving there`);
    else if (problem) throw new ConfigError(setting, `cannot write to ${dir} (${problem})`);
  }
  return full;
}
