/**
 * The ONLY module that loads the Webex JS SDK.
 *
 * The umbrella `webex` package does not load on Node 20 (meetings/calling need a browser), so we build
 * the same SDK from its plugin packages: requiring each plugin registers it on WebexCore, then
 * WebexCore.init() creates an instance. Construction and types only: connection policy lives elsewhere.
 * toodles needs only the device and Mercury plugins: its REST calls go through request() (hydra.ts).
 * sdk-packages/ lists the packages each kind of user loads; the build bundles each list into one file
 * in dist/sdk/.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { WebexSdk, WebexSdkWithPlugins } from './sdk-types.js';

export type * from './sdk-types.js';

const require = createRequire(import.meta.url);

/** Mercury tuning, forwarded to config.mercury (milliseconds). */
export interface MercuryTuning {
  pingInterval?: number;
  pongTimeout?: number;
  backoffTimeReset?: number;
  backoffTimeMax?: number;
  forceCloseDelay?: number;
  /** Give up after this many reconnect attempts (SDK default: retry forever). */
  maxRetries?: number;
  /** Like maxRetries, but only before the first successful connection. */
  initialConnectionMaxRetries?: number;
}

/** The daemon's Mercury settings: a ping every 5 s, given up after 4 s, so a silently cut socket is noticed within 9-10 s. */
export const DAEMON_MERCURY: MercuryTuning = { pingInterval: 5_000, pongTimeout: 4_000, maxRetries: 1 };

export type SdkLogLevel = 'silent' | 'error' | 'warn' | 'log' | 'info' | 'debug' | 'trace';

export interface CreateWebexSdkOptions {
  /** Bot access token. Must look like `<x>_<cluster>_<orgUuid>` or the SDK never fetches its catalog. */
  token: string;
  /** config.services.discovery.u2c, e.g. https://u2c.wbx2.com/u2c/api/v1 */
  u2cUrl: string;
  /** config.services.discovery.hydra, e.g. https://webexapis.com/v1 */
  hydraUrl: string;
  mercury?: MercuryTuning;
  /** config.defaultMercuryOptions: merged into the `ws` constructor options (handshakeTimeout, agent, ...). */
  wsOptions?: Record<string, unknown>;
  /** SDK's own logger level. Default 'silent': the SDK logs several lines per frame at info. */
  logLevel?: SdkLogLevel;
  /** Device TTL in seconds (config.device.ephemeralDeviceTTL); the SDK refreshes at ttl/2+60 s. */
  deviceTtlSeconds?: number;
  /**
   * Where the SDK's code comes from: the build's bundle (default), or its packages as shipped in
   * node_modules, as a bare SDK bot loads them (the bench's naive bot).
   */
  source?: SdkSource;
}

export type SdkSource = 'bundle' | 'packages';

/** WebexCore is a class; the umbrella package's `Webex.init(attrs)` is just `new Webex(attrs)`. */
type WebexCoreCtor = new (attrs: { credentials: unknown; config: Record<string, unknown> }) => unknown;

type HydraType = 'MESSAGE' | 'PEOPLE' | 'ROOM' | 'ATTACHMENT_ACTION';
interface WebexCommon {
  getHydraClusterString(webex: WebexSdk, conversationUrl: string): string;
  constructHydraId(type: HydraType, uuid: string, cluster: string): string;
}

/** What a list in sdk-packages/ exports, bundled or not. */
interface SdkPackages {
  WebexCore: WebexCoreCtor;
  common: WebexCommon;
}

type PackageList = 'daemon' | 'with-plugins';

/** Each file loads once (require caches it); a bundle has a WebexCore of its own, apart from the packages'. */
function load(list: PackageList, source: SdkSource): SdkPackages {
  const file = source === 'bundle' ? `../../sdk/${list}.cjs` : `../../../src/webex/sdk-packages/${list}.cjs`;
  try {
    return require(file) as SdkPackages;
  } catch (err) {
    if (source === 'packages' || (err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error(`the SDK bundle ${fileURLToPath(new URL(file, import.meta.url))} is missing: run npm run build`);
  }
}

/** The packages each instance was made from, for the helpers that call into the same SDK. */
const packagesOf = new WeakMap<object, SdkPackages>();

/** An instance as toodles uses it: sockets through its own Mercury sessions, REST through request(). */
export function createWebexSdk(opts: CreateWebexSdkOptions): WebexSdk {
  return construct(load('daemon', opts.source ?? 'bundle'), opts) as WebexSdk;
}

/**
 * An instance with the SDK's public plugins too (messages, attachment actions, people, rooms), for a
 * plain SDK user (the test kits' bots).
 */
export function createWebexSdkWithPlugins(opts: CreateWebexSdkOptions): WebexSdkWithPlugins {
  return construct(load('with-plugins', opts.source ?? 'bundle'), opts) as WebexSdkWithPlugins;
}

function construct(packages: SdkPackages, opts: CreateWebexSdkOptions): object {
  const mercury: Record<string, number> = {};
  for (const [k, v] of Object.entries(opts.mercury ?? {})) if (typeof v === 'number') mercury[k] = v;

  const config: Record<string, unknown> = {
    // The SDK's logger keeps a 10,000-line history of formatted lines per instance even when silent: a leak per reconnect.
    logger: { level: opts.logLevel ?? 'silent', bufferLogLevel: 'silent', historyLength: 0 },
    services: { discovery: { u2c: opts.u2cUrl, hydra: opts.hydraUrl } },
    device: {
      // Ephemeral: the SDK sends a ttl on register and asks mercury for multipleConnections=true.
      ephemeral: true,
      ...(opts.deviceTtlSeconds ? { ephemeralDeviceTTL: opts.deviceTtlSeconds } : {}),
      preDiscoveryServices: { hydra: opts.hydraUrl, hydraServiceUrl: opts.hydraUrl },
    },
    mercury,
    ...(opts.wsOptions ? { defaultMercuryOptions: opts.wsOptions } : {}),
  };
  const sdk = new packages.WebexCore({ credentials: { access_token: opts.token }, config }) as object;
  packagesOf.set(sdk, packages);
  return sdk;
}

/**
 * Mercury events carry raw UUIDs; REST wants public (hydra) ids, whose cluster part the SDK derives
 * from the conversation URL through its service catalog. Same derivation as its own message events.
 */
export function hydraIdsFor(sdk: WebexSdk, conversationUrl: string): (type: HydraType, uuid: string) => string {
  const common = packagesOf.get(sdk)?.common;
  if (!common) throw new Error('hydraIdsFor: an SDK instance createWebexSdk did not make');
  const cluster = common.getHydraClusterString(sdk, conversationUrl);
  return (type, uuid) => common.constructHydraId(type, uuid, cluster);
}
