/**
 * Every place toodles reaches past the SDK's declared surface (src/webex/sdk-types.ts): each cast
 * below names the internal it touches and why the public API will not do. Nothing else casts the SDK.
 */
import { bounded, sleep, waitForEvent, type OnceEmitter } from '../util/bounded.js';
import type { WebexDevice, WebexMercury, WebexSdk } from './sdk-types.js';

/** The one close the SDK never reconnects after by itself (see webex-wire.md). */
export const PERMANENT_CLOSE = { code: 3050, reason: 'done (permanent)' };

interface MercuryInternals {
  _reconnect: (...args: unknown[]) => Promise<void>;
  _attemptConnection: (url: string, sessionId: string, callback: (err?: unknown) => void, options?: unknown) => unknown;
  backoffCalls: Map<string, { abort(): void }>;
  trigger(event: string, ...args: unknown[]): void;
  _handleImminentShutdown: (...args: unknown[]) => void;
  getSocket(sessionId: string): { on(event: string, listener: () => void): void } | undefined;
}

/** Emitted by a tamed Mercury when a session's one connect attempt fails, with the attempt's error. */
export const attemptFailedEvent = (sessionId: string) => `toodles:attempt_failed:${sessionId}`;

/** The supervisor decides when to reconnect; the SDK reconnecting behind its back would race it. */
export function tameMercury(sdk: WebexSdk): void {
  const mercury = sdk.internal.mercury as unknown as MercuryInternals;
  mercury._reconnect = () => Promise.resolve();
  // A server `shutdown` frame makes the SDK switch sockets by itself; we let the close reach the supervisor instead.
  mercury._handleImminentShutdown = () => undefined;
  // One try per connect: the SDK's own retries (at least one, whatever maxRetries says) would double
  // the upgrades the supervisor's pacing allows.
  const attempt = mercury._attemptConnection;
  mercury._attemptConnection = function (this: MercuryInternals, url, sessionId, callback, options) {
    return attempt.call(
      this,
      url,
      sessionId,
      (err?: unknown) => {
        if (err) {
          this.trigger(attemptFailedEvent(sessionId), err); // first: the abort below rejects the connect too
          this.backoffCalls.get(sessionId)?.abort();
        }
        callback(err);
      },
      options,
    );
  };
}

/** Every frame on a session's `ws` socket, pongs included: Mercury emits no event for a pong. */
export function onSocketFrames(mercury: WebexMercury, sessionId: string, listener: () => void): void {
  const socket = (mercury as unknown as MercuryInternals).getSocket(sessionId);
  socket?.on('message', listener);
  socket?.on('pong', listener);
}

/**
 * Plugins finish initialising asynchronously; device registration needs them all. WebexCore has
 * the same ampersand events as every plugin, but the declared WebexSdk carries only once().
 */
export async function pluginsReady(sdk: WebexSdk, timeoutMs: number): Promise<void> {
  if (sdk.ready) return;
  await waitForEvent(sdk as unknown as OnceEmitter, 'ready', { timeoutMs, what: 'sdk ready' });
}

interface CatalogServices {
  initFailed?: boolean;
  _getCatalog(): { status: { postauth: { ready: boolean } } };
}
/** The SDK says "catalog ready" by an event only on success, and "failed" only by a flag. */
const CATALOG_POLL_MS = 25;

/**
 * The device plugin waits 10 s for a service catalog whose first fetch is still running, even once
 * that fetch has failed. Wait for it here instead, until it is ready or has failed: then the
 * registration asks for the catalog again itself and fails at once with Webex's answer (a 401 is
 * still fatal), so the supervisor's pacing, not the SDK's timer, decides when to try again.
 */
export async function catalogSettled(sdk: WebexSdk, timeoutMs: number): Promise<void> {
  const services = (sdk.internal as unknown as { services: CatalogServices }).services;
  await bounded(
    'service catalog',
    async (signal) => {
      while (!services._getCatalog().status.postauth.ready && !services.initFailed) await sleep(CATALOG_POLL_MS, signal);
    },
    { timeoutMs },
  );
}

/**
 * Stops an instance's device refresh timer without deleting the registration other instances
 * share: the device plugin has no call for that, and a live timer would refresh it behind our back.
 */
export function stopDeviceRefresh(device: WebexDevice): void {
  clearTimeout((device as unknown as { refreshTimer?: NodeJS.Timeout }).refreshTimer);
}
