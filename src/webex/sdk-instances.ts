import type { Logger } from 'pino';
import { bounded } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import type { DeviceRecord, DeviceStore } from './device-record.js';
import { httpStatus, type WebexRest } from './rest.js';
import { createWebexSdk, type CreateWebexSdkOptions, type WebexSdk } from './sdk.js';
import { PERMANENT_CLOSE, catalogSettled, pluginsReady, stopDeviceRefresh, tameMercury } from './sdk-internals.js';
import { FatalWebexError } from './types.js';

/** Told of each device registration, for stats. */
export interface DeviceObserver {
  device(d: { url?: string; reused: boolean }): void;
}

export interface SdkInstancesOptions {
  sdk: Omit<CreateWebexSdkOptions, 'logLevel'>;
  log: Logger;
  rest: WebexRest;
  /** Bounds the waits that are not REST calls (plugins ready, catalog, unregister). */
  requestTimeoutMs: number;
  /** Called on every fresh SDK instance, before it makes a request (e.g. to route REST through a proxy). */
  prepareSdk?: (sdk: WebexSdk) => void;
  observer?: DeviceObserver;
  /** Where the device registration is recorded across restarts; none: not recorded. */
  deviceStore?: DeviceStore;
}

/** One SDK instance; a renewed link starts a new one and lets the old one retire with its sockets. */
interface Generation {
  sdk: WebexSdk;
  sockets: number;
  retired: boolean;
  /** Settles once the device is registered (or refreshed) on this instance. */
  registered: Promise<void>;
  /** Rebuilt away from: its device is deleted when the instance is disposed. */
  dropDevice?: boolean;
  /** Webex answered the last registration with an error: the next caller tries again on this instance. */
  refused?: boolean;
}

/**
 * The SDK instances and the one device registration they share. New work goes to the current
 * instance once its registration is in place; a renewed instance retires with its last socket,
 * and the device outlives them all until shutdown (or a rebuild leaves it behind).
 */
export class SdkInstances {
  private generation?: Generation;
  private device?: DeviceRecord;
  private lastRegistration: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SdkInstancesOptions) {}

  /** The current instance, for a REST call. */
  async sdk(signal?: AbortSignal): Promise<WebexSdk> {
    return (await this.current(signal)).sdk;
  }

  /** The current instance, for one more socket: a retired instance lives until every socket's `release`. */
  async lease(signal: AbortSignal): Promise<{ sdk: WebexSdk; release: () => void }> {
    const gen = await this.current(signal);
    gen.sockets += 1;
    return { sdk: gen.sdk, release: () => this.released(gen) };
  }

  renew(reason: string): void {
    const gen = this.generation;
    if (!gen || gen.retired) return;
    this.opts.log.warn({ event: 'webex.sdk_renew', reason });
    gen.retired = true;
    this.generation = undefined;
    if (gen.sockets === 0) this.dispose(gen);
  }

  rebuild(reason: string): void {
    this.opts.log.warn({ event: 'webex.link_rebuild', reason });
    if (this.generation) this.generation.dropDevice = true;
    this.device = undefined; // the next instance registers anew, not from the record either
    this.opts.deviceStore?.clear();
    this.renew(reason);
  }

  async shutdown(signal: AbortSignal): Promise<void> {
    if (!this.device && !this.generation) return; // never registered
    // After a renew there may be no instance left: build one just to delete the device.
    const gen = await this.current(signal);
    this.generation = undefined;
    await gen.sdk.internal.mercury.disconnectAll(PERMANENT_CLOSE).catch(() => undefined);
    await bounded('device unregister', () => gen.sdk.internal.device.unregister(), { timeoutMs: this.opts.requestTimeoutMs, signal });
    this.opts.deviceStore?.clear();
    this.dispose(gen);
  }

  /** The SDK instance new work goes to, once its device registration is in place. */
  private async current(signal?: AbortSignal): Promise<Generation> {
    const gen = this.generation ?? this.newGeneration();
    if (gen.refused) this.scheduleRegistration(gen);
    // Callers bound this wait themselves; the registration is bounded inside.
    await bounded('sdk ready', gen.registered, { timeoutMs: Infinity, signal });
    return gen;
  }

  /** A fresh SDK instance; every caller until it is renewed shares its one registration. */
  private newGeneration(): Generation {
    const sdk = createWebexSdk({ ...this.opts.sdk, logLevel: 'silent' });
    this.opts.prepareSdk?.(sdk);
    tameMercury(sdk);
    const gen: Generation = { sdk, sockets: 0, retired: false, registered: Promise.resolve() };
    this.scheduleRegistration(gen);
    this.generation = gen;
    return gen;
  }

  private scheduleRegistration(gen: Generation): void {
    gen.refused = false;
    // One registration at a time: one still running for a renewed instance finishes first, so this
    // one refreshes the same device instead of registering a second.
    gen.registered = this.lastRegistration.catch(() => undefined).then(() => this.register(gen));
    gen.registered.catch(() => undefined); // read by every caller of current()
    this.lastRegistration = gen.registered;
  }

  private async register(gen: Generation): Promise<void> {
    const { sdk } = gen;
    await pluginsReady(sdk, this.opts.requestTimeoutMs);
    const device = sdk.internal.device;
    // Same registration as before, even one a killed process left behind: Webex allows ~100 per
    // bot, a new one per reconnect or restart would exhaust it. One Webex no longer knows (404) is
    // registered anew by the SDK's refresh.
    const known = this.device ?? this.opts.deviceStore?.load();
    const reused = known !== undefined;
    if (known) device.set({ ...known });
    try {
      await catalogSettled(sdk, this.opts.requestTimeoutMs);
      // One try: the supervisor paces the retries.
      await this.opts.rest.call(reused ? 'device refresh' : 'device register', () => device.register(), { attempts: 1 });
    } catch (err) {
      if (httpStatus(err) && !(err instanceof FatalWebexError)) {
        // Webex answered (5xx, 429...): nothing is left running, and this instance has its catalog;
        // a fresh one would fetch it again on every try.
        gen.refused = true;
      } else {
        this.watchLateRegistration(gen);
        this.renew(`device registration failed: ${errorText(err)}`);
      }
      throw err;
    }
    // A rebuild while this instance registered: the device it got is the one being left behind.
    if (!gen.dropDevice) this.keepDevice({ url: device.url ?? '', webSocketUrl: device.webSocketUrl ?? '' });
    const refreshed = reused && device.url === known?.url;
    this.opts.log.info({ event: 'webex.device', reused: refreshed, url: device.url });
    this.opts.observer?.device({ url: device.url, reused: refreshed });
    if (gen.retired) this.dispose(gen); // renewed while registering: its refresh timer must not live on
  }

  /**
   * A registration we stopped waiting for can still succeed at Webex. One device per bot: adopt it
   * if we have none yet, otherwise delete it rather than leave it counting against the limit.
   */
  private watchLateRegistration(gen: Generation): void {
    const device = gen.sdk.internal.device;
    device.once('registration:success', () => {
      if (!device.url || device.url === this.device?.url) return;
      if (!this.device) {
        this.keepDevice({ url: device.url, webSocketUrl: device.webSocketUrl ?? '' });
        this.opts.log.info({ event: 'webex.device_adopted', url: device.url });
        return;
      }
      this.opts.log.warn({ event: 'webex.device_orphan_removed', url: device.url });
      void bounded('orphan device unregister', () => device.unregister(), { timeoutMs: this.opts.requestTimeoutMs }).catch(() => undefined);
    });
  }

  private keepDevice(record: DeviceRecord): void {
    this.device = record;
    try {
      this.opts.deviceStore?.save(record);
    } catch (err) {
      // Not fatal: without the record a restart after a crash registers a second device.
      this.opts.log.warn({ event: 'webex.device_record_failed', err: errorText(err) });
    }
  }

  private released(gen: Generation): void {
    gen.sockets -= 1;
    if (gen.retired && gen.sockets === 0) this.dispose(gen);
  }

  private dispose(gen: Generation): void {
    stopDeviceRefresh(gen.sdk.internal.device);
    void gen.sdk.internal.mercury.disconnectAll(PERMANENT_CLOSE).catch(() => undefined);
    if (gen.dropDevice) void this.dropDevice(gen);
  }

  /** Deletes the device a rebuild left behind; Webex allows only ~100 registrations per bot. */
  private async dropDevice(gen: Generation): Promise<void> {
    const device = gen.sdk.internal.device;
    const url = device.url;
    try {
      await bounded('old device unregister', () => device.unregister(), { timeoutMs: this.opts.requestTimeoutMs });
      this.opts.log.info({ event: 'webex.device_dropped', url });
    } catch (err) {
      this.opts.log.warn({ event: 'webex.device_drop_failed', url, err: errorText(err) });
    }
  }
}
