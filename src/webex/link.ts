import type { Logger } from 'pino';
import { bounded, sleep, waitForEvent, type OnceEmitter } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import type { DeviceRecord, DeviceStore } from './device-record.js';
import { createWebexSdk, hydraIdsFor, type CreateWebexSdkOptions, type WebexSdk } from './sdk.js';
import type { HydraPerson } from './sdk-types.js';
import {
  FATAL_CLOSE_CODES,
  FatalWebexError,
  NotFoundError,
  type BotIdentity,
  type CardAction,
  type CloseInfo,
  type IncomingActivity,
  type LinkConnection,
  type OutgoingMessage,
  type Person,
  type WebexLink,
} from './types.js';

export interface LinkOptions {
  sdk: Omit<CreateWebexSdkOptions, 'logLevel'>;
  log: Logger;
  /** Each REST call (one attempt) is abandoned after this long. */
  requestTimeoutMs?: number;
  /** Called on every fresh SDK instance, before it makes a request (e.g. to route REST through a proxy). */
  prepareSdk?: (sdk: WebexSdk) => void;
  /** Told of REST retries (status undefined: a network error) and of each device registration, for stats. */
  observer?: { restRetry(status: number | undefined): void; device(d: { url?: string; reused: boolean }): void };
  /** Where the device registration is recorded across restarts (TOODLES_STATE_DIR); none: not recorded. */
  deviceStore?: DeviceStore;
}

// Mercury internals the adapter overrides; kept here so nothing else knows they exist.
interface MercuryInternals {
  _reconnect: (...args: unknown[]) => Promise<void>;
  _attemptConnection: (url: string, sessionId: string, callback: (err?: unknown) => void, options?: unknown) => unknown;
  backoffCalls: Map<string, { abort(): void }>;
  trigger(event: string, ...args: unknown[]): void;
  _handleImminentShutdown: (...args: unknown[]) => void;
  getSocket(sessionId: string): { on(event: string, listener: () => void): void } | undefined;
}
interface CatalogServices {
  initFailed?: boolean;
  _getCatalog(): { status: { postauth: { ready: boolean } } };
}
/** The SDK says "catalog ready" by an event only on success, and "failed" only by a flag. */
const CATALOG_POLL_MS = 25;
interface SdkHttpError {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
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

const PERMANENT_CLOSE = { code: 3050, reason: 'done (permanent)' }; // the one close the SDK never reconnects after

/**
 * The only code that talks to the Webex SDK. It hands the supervisor sockets (Mercury sessions on
 * one device registration) and hides the SDK's quirks: it never lets the SDK reconnect on its own,
 * turns raw activities into ids, and gives every REST call a timeout and a retry policy.
 */
export class SdkWebexLink implements WebexLink {
  private generation?: Generation;
  private device?: DeviceRecord;
  private sessions = 0;
  private lastRegistration: Promise<void> = Promise.resolve();
  private readonly requestTimeoutMs: number;

  constructor(private readonly opts: LinkOptions) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
  }

  async start(signal: AbortSignal): Promise<BotIdentity> {
    const gen = await this.current(signal);
    const me = await this.rest('people/me', () => gen.sdk.people.get('me'), signal);
    return { id: me.id, displayName: me.displayName, emails: me.emails };
  }

  async connect(signal: AbortSignal): Promise<LinkConnection> {
    const gen = await this.current(signal);
    const mercury = gen.sdk.internal.mercury;
    const sessionId = `toodles-${++this.sessions}`;
    const connection = new MercuryConnection(gen, sessionId, () => this.released(gen), this.opts.log);
    gen.sockets += 1;
    // The SDK's first failed attempt ends the connect (tameMercury): its error, not the abort's.
    const settled = new AbortController();
    const failure = waitForEvent<unknown>(mercury as unknown as OnceEmitter, attemptFailed(sessionId), { timeoutMs: Infinity, signal: settled.signal });
    failure.catch(() => undefined);
    const connected = Promise.race([mercury.connect(undefined, sessionId), failure.then((err) => Promise.reject(err))]);
    connected.catch(() => undefined); // an abort below rejects it; the outcome is read through `bounded`
    const onAbort = () => void connection.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await bounded(`mercury connect ${sessionId}`, connected, { timeoutMs: Infinity, signal });
    } catch (err) {
      await connection.close();
      throw classifyConnectError(err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      settled.abort();
    }
    connection.attach();
    return connection;
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
    await bounded('device unregister', () => gen.sdk.internal.device.unregister(), { timeoutMs: this.requestTimeoutMs, signal });
    this.opts.deviceStore?.clear();
    this.dispose(gen);
  }

  async getMessage(id: string, signal?: AbortSignal) {
    const sdk = await this.sdkForRest(signal);
    const m = await this.rest(`messages/${id}`, () => sdk.messages.get(id), signal);
    return {
      id: m.id,
      roomId: m.roomId,
      roomType: m.roomType ?? 'direct',
      personId: m.personId,
      personEmail: m.personEmail,
      text: m.text ?? '',
      hasFiles: (m.files?.length ?? 0) > 0,
      parentId: m.parentId,
    };
  }

  async getPerson(id: string, signal?: AbortSignal): Promise<Person> {
    const sdk = await this.sdkForRest(signal);
    // Not people.get(): its batcher never settles a lookup whose list request fails (a hang, not an error).
    const hydra = sdk as unknown as { request(opts: { service: 'hydra'; resource: string }): Promise<{ body: HydraPerson }> };
    const { body: p } = await this.rest(`people/${id}`, () => hydra.request({ service: 'hydra', resource: `people/${encodeURIComponent(id)}` }), signal);
    return { id: p.id, email: p.emails[0] ?? '', displayName: p.displayName, isBot: p.type === 'bot' };
  }

  async deleteMessage(id: string, signal?: AbortSignal): Promise<void> {
    const sdk = await this.sdkForRest(signal);
    await this.rest(`messages/${id} (delete)`, () => sdk.messages.remove(id), signal);
  }

  async getCardAction(id: string, signal?: AbortSignal): Promise<CardAction> {
    const sdk = await this.sdkForRest(signal);
    const a = await this.rest(`attachment/actions/${id}`, () => sdk.attachmentActions.get(id), signal);
    return { id: a.id, messageId: a.messageId, roomId: a.roomId, personId: a.personId, inputs: a.inputs ?? {} };
  }

  async send(message: OutgoingMessage, signal?: AbortSignal): Promise<{ id: string }> {
    const sdk = await this.sdkForRest(signal);
    const sent = await this.rest('messages (send)', () => sdk.messages.create(message), signal, retryableSend);
    return { id: sent.id };
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
    // Plugins finish initialising asynchronously; device registration needs them all.
    if (!sdk.ready) {
      await waitForEvent(sdk as unknown as OnceEmitter, 'ready', { timeoutMs: this.requestTimeoutMs, what: 'sdk ready' });
    }
    const device = sdk.internal.device;
    // Same registration as before, even one a killed process left behind: Webex allows ~100 per
    // bot, a new one per reconnect or restart would exhaust it. One Webex no longer knows (404) is
    // registered anew by the SDK's refresh.
    const known = this.device ?? this.opts.deviceStore?.load();
    const reused = known !== undefined;
    if (known) device.set({ ...known });
    try {
      await this.catalogSettled(sdk);
      // One try: the supervisor paces the retries.
      await this.rest(reused ? 'device refresh' : 'device register', () => device.register(), undefined, retryableRead, 1);
    } catch (err) {
      if ((err as SdkHttpError).statusCode && !(err instanceof FatalWebexError)) {
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
   * The device plugin waits 10 s for a service catalog whose first fetch is still running, even once
   * that fetch has failed. Wait for it here instead, until it is ready or has failed: then the
   * registration asks for the catalog again itself and fails at once with Webex's answer (a 401 is
   * still fatal), so the supervisor's pacing, not the SDK's timer, decides when to try again.
   */
  private async catalogSettled(sdk: WebexSdk): Promise<void> {
    const services = (sdk.internal as unknown as { services: CatalogServices }).services;
    await bounded(
      'service catalog',
      async (signal) => {
        while (!services._getCatalog().status.postauth.ready && !services.initFailed) await sleep(CATALOG_POLL_MS, signal);
      },
      { timeoutMs: this.requestTimeoutMs },
    );
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
      void bounded('orphan device unregister', () => device.unregister(), { timeoutMs: this.requestTimeoutMs }).catch(() => undefined);
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

  private async sdkForRest(signal?: AbortSignal): Promise<WebexSdk> {
    return (await this.current(signal)).sdk;
  }

  private released(gen: Generation): void {
    gen.sockets -= 1;
    if (gen.retired && gen.sockets === 0) this.dispose(gen);
  }

  private dispose(gen: Generation): void {
    // Stop the retired instance's device refresh timer without deleting the shared registration.
    clearTimeout((gen.sdk.internal.device as unknown as { refreshTimer?: NodeJS.Timeout }).refreshTimer);
    void gen.sdk.internal.mercury.disconnectAll(PERMANENT_CLOSE).catch(() => undefined);
    if (gen.dropDevice) void this.dropDevice(gen);
  }

  /** Deletes the device a rebuild left behind; Webex allows only ~100 registrations per bot. */
  private async dropDevice(gen: Generation): Promise<void> {
    const device = gen.sdk.internal.device;
    const url = device.url;
    try {
      await bounded('old device unregister', () => device.unregister(), { timeoutMs: this.requestTimeoutMs });
      this.opts.log.info({ event: 'webex.device_dropped', url });
    } catch (err) {
      this.opts.log.warn({ event: 'webex.device_drop_failed', url, err: errorText(err) });
    }
  }

  /**
   * A bounded REST call with Webex's retry etiquette: 429 waits for Retry-After, 5xx and network
   * errors back off briefly, 401 is fatal, 404 is final.
   */
  private async rest<T>(
    what: string,
    call: () => Promise<T>,
    signal?: AbortSignal,
    retryable: (status: number | undefined) => boolean = retryableRead,
    attempts = 4,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await bounded(what, call(), { timeoutMs: this.requestTimeoutMs, signal });
      } catch (err) {
        const status = (err as SdkHttpError).statusCode;
        if (status === 401) throw new FatalWebexError(`Webex rejected the bot token (${what}: 401)`);
        if (status === 404) throw new NotFoundError(what);
        if (!retryable(status) || attempt >= attempts || signal?.aborted) throw err;
        const waitMs = status === 429 ? retryAfterMs(err as SdkHttpError) : 250 * 2 ** attempt;
        this.opts.log.warn({ event: 'webex.rest_retry', what, status, attempt, waitMs, err: errorText(err) });
        this.opts.observer?.restRetry(status);
        await sleep(waitMs, signal);
      }
    }
  }
}

/** One Mercury session on the shared device registration. */
class MercuryConnection implements LinkConnection {
  private heardAt = Date.now();
  private activityListeners: Array<(a: IncomingActivity) => void> = [];
  private closeListeners: Array<(info: CloseInfo) => void> = [];
  private retiringListeners: Array<() => void> = [];
  private readonly unclaimed: IncomingActivity[] = [];
  private closed = false;
  private readonly mercury: WebexSdk['internal']['mercury'];

  constructor(
    private readonly gen: Generation,
    readonly id: string,
    private readonly onReleased: () => void,
    private readonly log: Logger,
  ) {
    this.mercury = gen.sdk.internal.mercury;
    this.mercury.on(`event:conversation.activity:${id}`, this.onEnvelope);
    this.mercury.on(`offline:${id}`, this.onOffline);
    this.mercury.on(`event:mercury_shutdown_imminent:${id}`, this.onShutdownNotice);
  }

  lastHeardAt(): number {
    return this.heardAt;
  }

  onActivity(listener: (activity: IncomingActivity) => void): void {
    this.activityListeners.push(listener);
    // Events that arrived between `online` and the supervisor taking the socket: acked already, so
    // dropping them would lose them for good.
    for (const activity of this.unclaimed.splice(0)) listener(activity);
  }

  onClose(listener: (info: CloseInfo) => void): void {
    this.closeListeners.push(listener);
  }

  onRetiring(listener: () => void): void {
    this.retiringListeners.push(listener);
  }

  /** Called once online: from now on every frame (pongs included) counts as a sign of life. */
  attach(): void {
    this.heardAt = Date.now();
    const socket = (this.mercury as unknown as MercuryInternals).getSocket(this.id);
    const touch = () => {
      this.heardAt = Date.now();
    };
    socket?.on('message', touch);
    socket?.on('pong', touch);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.mercury.off(`event:conversation.activity:${this.id}`, this.onEnvelope);
    this.mercury.off(`offline:${this.id}`, this.onOffline);
    this.mercury.off(`event:mercury_shutdown_imminent:${this.id}`, this.onShutdownNotice);
    try {
      await this.mercury.disconnect(PERMANENT_CLOSE, this.id);
    } catch (err) {
      this.log.debug({ event: 'connection.disconnect_error', connection: this.id, err: errorText(err) });
    } finally {
      this.onReleased();
    }
  }

  private readonly onOffline = (event?: { code?: number; reason?: string }) => {
    const info: CloseInfo = { code: event?.code, reason: event?.reason || 'socket closed' };
    for (const listener of this.closeListeners) listener(info);
  };

  private readonly onShutdownNotice = () => {
    for (const listener of this.retiringListeners) listener();
  };

  private readonly onEnvelope = (envelope: { data?: { activity?: RawActivity } }) => {
    this.heardAt = Date.now();
    const activity = envelope.data?.activity;
    let incoming: IncomingActivity | undefined;
    try {
      incoming = activity && toIncoming(activity, this.gen.sdk);
    } catch (err) {
      this.log.warn({ event: 'activity.malformed', connection: this.id, err: errorText(err) });
      return;
    }
    if (!incoming) {
      this.log.debug({ event: 'activity.ignored', connection: this.id, verb: activity?.verb });
      return;
    }
    if (this.activityListeners.length === 0) this.unclaimed.push(incoming);
    for (const listener of this.activityListeners) listener(incoming);
  };
}

interface RawActivity {
  id?: string;
  verb?: string;
  actor?: { entryUUID?: string };
  target?: { id?: string; url?: string };
}

/** Posts and card submits become ids in Webex's public (hydra) form; everything else is not ours to handle. */
function toIncoming(activity: RawActivity, sdk: WebexSdk): IncomingActivity | undefined {
  const { id, verb, actor, target } = activity;
  if (!id || !actor?.entryUUID || !target?.id || !target.url) return undefined;
  const hydra = hydraIdsFor(sdk, target.url);
  const common = { actorId: hydra('PEOPLE', actor.entryUUID), roomId: hydra('ROOM', target.id) };
  if (verb === 'post' || verb === 'share') return { id: hydra('MESSAGE', id), kind: 'message', ...common };
  if (verb === 'cardAction') return { id: hydra('ATTACHMENT_ACTION', id), kind: 'cardAction', ...common };
  return undefined;
}

/** The supervisor decides when to reconnect; the SDK reconnecting behind its back would race it. */
function tameMercury(sdk: WebexSdk): void {
  const mercury = sdk.internal.mercury as unknown as MercuryInternals;
  mercury._reconnect = () => Promise.resolve();
  // A server `shutdown` frame makes the SDK switch sockets by itself; we let the close reach the supervisor instead.
  mercury._handleImminentShutdown = () => undefined;
  // One try per connect: the SDK's own retries (at least one, whatever maxRetries says) would double
  // the upgrades the supervisor's pacing allows.
  const attempt = mercury._attemptConnection;
  mercury._attemptConnection = function (this: MercuryInternals, url, sessionId, callback, options) {
    return attempt.call(this, url, sessionId, (err?: unknown) => {
      if (err) {
        this.trigger(attemptFailed(sessionId), err); // first: the abort below rejects the connect too
        this.backoffCalls.get(sessionId)?.abort();
      }
      callback(err);
    }, options);
  };
}

const attemptFailed = (sessionId: string) => `toodles:attempt_failed:${sessionId}`;

function classifyConnectError(err: unknown): unknown {
  const code = (err as { code?: number }).code;
  if (code !== undefined && FATAL_CLOSE_CODES.has(code)) {
    return new FatalWebexError(`Webex refused the socket (${code}): check the bot token`, code);
  }
  return err;
}

/** A read can be repeated after any server or network failure (the SDK reports the latter as status 0 or none). */
const retryableRead = (status: number | undefined) => !status || status === 429 || status >= 500;
/** A send only when Webex said it did not take it: a 500 or a lost answer may have posted the message already. */
const retryableSend = (status: number | undefined) => status === 429 || status === 503;

function retryAfterMs(err: SdkHttpError): number {
  const seconds = Number(err.headers?.['retry-after']);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 60) * 1000 : 1000;
}
