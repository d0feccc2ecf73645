import type { Logger } from 'pino';
import type { DeviceStore } from './device-record.js';
import { openMercuryConnection } from './mercury-connection.js';
import { WebexRest, retryableSend, type RestObserver } from './rest.js';
import { hydra, hydraPage } from './hydra.js';
import type { CreateWebexSdkOptions, HydraAttachmentAction, HydraMessage, HydraPerson, HydraRoom, WebexSdk } from './sdk.js';
import { SdkInstances, type DeviceObserver } from './sdk-instances.js';
import type {
  BotIdentity,
  CardAction,
  IncomingMessage,
  LinkConnection,
  MessagePage,
  OutgoingMessage,
  Person,
  RoomSummary,
  WebexHistory,
  WebexLink,
} from './types.js';

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
export class SdkWebexLink implements WebexLink, WebexHistory {
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
    const me = await this.rest.call('people/me', () => hydra<HydraPerson>(sdk, { resource: 'people/me' }), { signal });
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
    const resource = `messages/${encodeURIComponent(id)}`;
    return incomingMessage(await this.rest.call(`messages/${id}`, () => hydra<HydraMessage>(sdk, { resource }), { signal }));
  }

  async listRooms(max: number, signal?: AbortSignal): Promise<RoomSummary[]> {
    const sdk = await this.instances.sdk(signal);
    const page = await this.rest.call('rooms (list)', () => hydraPage<HydraRoom>(sdk, 'rooms', { sortBy: 'lastactivity', max }), {
      signal,
    });
    return page.items.map((r) => ({ id: r.id, type: r.type, lastActivity: epochMs(r.lastActivity ?? r.created, 0) }));
  }

  async listMessages(
    q: { roomId: string; roomType: RoomSummary['type']; max: number; beforeMessage?: string },
    signal?: AbortSignal,
  ): Promise<MessagePage> {
    const sdk = await this.instances.sdk(signal);
    // Webex's rules for bots: in a group space only the messages that mention it, at most 100 a page.
    const group = q.roomType === 'group';
    const qs = {
      roomId: q.roomId,
      max: group ? Math.min(q.max, GROUP_LIST_MAX) : q.max,
      ...(group ? { mentionedPeople: 'me' } : {}),
      ...(q.beforeMessage ? { beforeMessage: q.beforeMessage } : {}),
    };
    const page = await this.rest.call('messages (list)', () => hydraPage<HydraMessage>(sdk, 'messages', qs), { signal });
    return { items: page.items.map(incomingMessage), more: page.more };
  }

  async getPerson(id: string, signal?: AbortSignal): Promise<Person> {
    const sdk = await this.instances.sdk(signal);
    const resource = `people/${encodeURIComponent(id)}`;
    const p = await this.rest.call(`people/${id}`, () => hydra<HydraPerson>(sdk, { resource }), { signal });
    return { id: p.id, email: p.emails[0] ?? '', displayName: p.displayName, isBot: p.type === 'bot' };
  }

  async deleteMessage(id: string, signal?: AbortSignal): Promise<void> {
    const sdk = await this.instances.sdk(signal);
    const resource = `messages/${encodeURIComponent(id)}`;
    await this.rest.call(`messages/${id} (delete)`, () => hydra<void>(sdk, { method: 'DELETE', resource }), { signal });
  }

  async getCardAction(id: string, signal?: AbortSignal): Promise<CardAction> {
    const sdk = await this.instances.sdk(signal);
    const resource = `attachment/actions/${encodeURIComponent(id)}`;
    const a = await this.rest.call(`attachment/actions/${id}`, () => hydra<HydraAttachmentAction>(sdk, { resource }), { signal });
    return { id: a.id, messageId: a.messageId, roomId: a.roomId, personId: a.personId, inputs: a.inputs ?? {} };
  }

  async send(message: OutgoingMessage, signal?: AbortSignal): Promise<{ id: string }> {
    const sdk = await this.instances.sdk(signal);
    const sent = await this.rest.call(
      'messages (send)',
      () => hydra<HydraMessage>(sdk, { method: 'POST', resource: 'messages', body: message }),
      {
        signal,
        retryable: retryableSend,
      },
    );
    return { id: sent.id };
  }
}

/** With mentionedPeople, Webex answers 400 to a larger max. */
const GROUP_LIST_MAX = 100;

function incomingMessage(m: HydraMessage): IncomingMessage {
  return {
    id: m.id,
    roomId: m.roomId,
    roomType: m.roomType ?? 'direct',
    personId: m.personId,
    personEmail: m.personEmail,
    text: m.text ?? '',
    hasFiles: (m.files?.length ?? 0) > 0,
    parentId: m.parentId,
    // Never missing from Webex; were it so, the message reads as just sent rather than as too old to run.
    created: epochMs(m.created, Date.now()),
  };
}

/** An ISO time from Webex in epoch ms; `fallback` when it is missing or unreadable. */
function epochMs(iso: string | undefined, fallback: number): number {
  const ms = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(ms) ? ms : fallback;
}
