import type { Logger } from 'pino';
import type { DeviceStore } from './device-record.js';
import { openMercuryConnection } from './mercury-connection.js';
import { WebexRest, retryableSend, type RestObserver } from './rest.js';
import type { CreateWebexSdkOptions, WebexSdk } from './sdk.js';
import { SdkInstances, type DeviceObserver } from './sdk-instances.js';
import { fetchPerson } from './sdk-internals.js';
import type { BotIdentity, CardAction, IncomingMessage, LinkConnection, OutgoingMessage, Person, WebexLink } from './types.js';

export interface LinkOptions {
  sdk: Omit<CreateWebexSdkOptions, 'logLevel'>;
  log: Logger;
  /** Each REST call (one attempt) is abandoned after this long. */
  requestTimeoutMs?: number;
  /** Called on every fresh SDK instance, before it makes a request (e.g. to route REST through a proxy). */
  prepareSdk?: (sdk: WebexSdk) => void;
  /** Told of REST retries (status undefined: a network error) and of each device registration, for stats. */
  observer?: RestObserver & DeviceObserver;
  /** Where the device registration is recorded across restarts (TOODLES_STATE_DIR); none: not recorded. */
  deviceStore?: DeviceStore;
}

/**
 * The only code that talks to the Webex SDK. It hands the supervisor sockets (Mercury sessions on
 * one device registration) and hides the SDK's quirks: it never lets the SDK reconnect on its own,
 * turns raw activities into ids, and gives every REST call a timeout and a retry policy.
 */
export class SdkWebexLink implements WebexLink {
  private readonly rest: WebexRest;
  private readonly instances: SdkInstances;
  private sessions = 0;

  constructor(private readonly opts: LinkOptions) {
    const requestTimeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.rest = new WebexRest({ log: opts.log, requestTimeoutMs, observer: opts.observer });
    this.instances = new SdkInstances({
      sdk: opts.sdk,
      log: opts.log,
      rest: this.rest,
      requestTimeoutMs,
      prepareSdk: opts.prepareSdk,
      observer: opts.observer,
      deviceStore: opts.deviceStore,
    });
  }

  async start(signal: AbortSignal): Promise<BotIdentity> {
    const sdk = await this.instances.sdk(signal);
    const me = await this.rest.call('people/me', () => sdk.people.get('me'), { signal });
    return { id: me.id, displayName: me.displayName, emails: me.emails };
  }

  async connect(signal: AbortSignal): Promise<LinkConnection> {
    const { sdk, release } = await this.instances.lease(signal);
    const sessionId = `toodles-${++this.sessions}`;
    return openMercuryConnection({ sdk, sessionId, log: this.opts.log, onReleased: release }, signal);
  }

  renew(reason: string): void {
    this.instances.renew(reason);
  }

  rebuild(reason: string): void {
    this.instances.rebuild(reason);
  }

  shutdown(signal: AbortSignal): Promise<void> {
    return this.instances.shutdown(signal);
  }

  async getMessage(id: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const sdk = await this.instances.sdk(signal);
    const m = await this.rest.call(`messages/${id}`, () => sdk.messages.get(id), { signal });
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
    const sdk = await this.instances.sdk(signal);
    const p = await this.rest.call(`people/${id}`, () => fetchPerson(sdk, id), { signal });
    return { id: p.id, email: p.emails[0] ?? '', displayName: p.displayName, isBot: p.type === 'bot' };
  }

  async deleteMessage(id: string, signal?: AbortSignal): Promise<void> {
    const sdk = await this.instances.sdk(signal);
    await this.rest.call(`messages/${id} (delete)`, () => sdk.messages.remove(id), { signal });
  }

  async getCardAction(id: string, signal?: AbortSignal): Promise<CardAction> {
    const sdk = await this.instances.sdk(signal);
    const a = await this.rest.call(`attachment/actions/${id}`, () => sdk.attachmentActions.get(id), { signal });
    return { id: a.id, messageId: a.messageId, roomId: a.roomId, personId: a.personId, inputs: a.inputs ?? {} };
  }

  async send(message: OutgoingMessage, signal?: AbortSignal): Promise<{ id: string }> {
    const sdk = await this.instances.sdk(signal);
    const sent = await this.rest.call('messages (send)', () => sdk.messages.create(message), { signal, retryable: retryableSend });
    return { id: sent.id };
  }
}
