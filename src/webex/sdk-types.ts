/**
 * Hand-written types for the small part of the Webex JS SDK 3.12.0 that toodles uses.
 * The SDK ships no TypeScript declarations; keep this narrow and add members only when used.
 * Everything here was read from node_modules/@webex/* /src, not guessed.
 */

/**
 * Ampersand-style event emitter used by every SDK plugin. A handler is any function: `never[]` lets each
 * caller type the arguments of the event it listens to.
 */
export interface SdkEvents {
  on(event: string, handler: (...args: never[]) => void): unknown;
  once(event: string, handler: (...args: never[]) => void): unknown;
  off(event?: string, handler?: (...args: never[]) => void): unknown;
  listenTo(other: SdkEvents, event: string, handler: (...args: never[]) => void): unknown;
  stopListening(other?: SdkEvents, event?: string, handler?: (...args: never[]) => void): unknown;
}

/** WDM device registration (internal-plugin-device). */
export interface WebexDevice extends SdkEvents {
  /** Set after a successful POST {wdm}/devices; `registered` derives from it. */
  readonly url?: string;
  readonly webSocketUrl?: string;
  readonly registered: boolean;
  /** POST {wdm}/devices (or PUT when already registered). */
  register(opts?: Record<string, unknown>): Promise<void>;
  /** PUT {device.url}; registers anew on 404. The SDK also refreshes on a timer (ttl/2 + 60 s). */
  refresh(opts?: Record<string, unknown>): Promise<void>;
  /** DELETE {device.url}. Leaves the socket open and the refresh timer armed (see webex-wire.md). */
  unregister(): Promise<void>;
  /** Drop local registration state without a request. */
  clear(): void;
  serialize(): Record<string, unknown>;
  set(attrs: Record<string, unknown>): void;
}

/** Close event as Mercury passes it to `offline*` handlers. */
export interface MercuryCloseEvent {
  code: number;
  reason: string;
  sessionId?: string;
}

/** Mercury envelope as delivered to `event:*` handlers. */
export interface MercuryEnvelope {
  id?: string;
  sequenceNumber?: number;
  sessionId?: string;
  type?: string;
  data: { eventType: string; activity?: Record<string, unknown>; [k: string]: unknown };
}

/**
 * Mercury websocket (internal-plugin-mercury).
 * Multi-session: each sessionId has its own socket and backoff. Events of the default session
 * ('mercury-default-session') are emitted bare (`online`, `offline.transient`, `event:conversation.activity`);
 * events of any other session carry a `:<sessionId>` suffix (`online:s2`, `event:conversation.activity:s2`).
 * messages.listen()/attachmentActions.listen() only subscribe to the default session's events.
 */
export interface WebexMercury extends SdkEvents {
  readonly defaultSessionId: string;
  /** True when the default session's socket is connected. */
  readonly connected: boolean;
  readonly connecting: boolean;
  readonly hasEverConnected: boolean;
  /** Registers the device first if needed, then connects with backoff. Resolves on buffer_state. */
  connect(webSocketUrl?: string, sessionId?: string): Promise<void>;
  /** options: {code, reason}; code 1000 or 3000-4999. */
  disconnect(options?: { code: number; reason: string }, sessionId?: string): Promise<void>;
  disconnectAll(options?: { code: number; reason: string }): Promise<void>;
  getSockets(): Map<string, unknown>;
  hasConnectedSockets(sessionId?: string): boolean | undefined;
}

export interface HydraMessage {
  id: string;
  roomId: string;
  roomType?: 'direct' | 'group';
  parentId?: string;
  text?: string;
  markdown?: string;
  html?: string;
  personId: string;
  personEmail: string;
  mentionedPeople?: string[];
  files?: string[];
  attachments?: Array<{ contentType: string; content: unknown }>;
  created: string;
}

export interface NewMessage {
  roomId?: string;
  toPersonEmail?: string;
  toPersonId?: string;
  text?: string;
  markdown?: string;
  parentId?: string;
  attachments?: Array<{ contentType: string; content: unknown }>;
}

/** The SDK event object delivered to messages.on('created'). */
export interface MessageCreatedEvent {
  resource: 'messages';
  event: 'created' | 'deleted';
  actorId: string;
  data: HydraMessage;
}

export interface HydraAttachmentAction {
  id: string;
  type: string;
  messageId: string;
  inputs: Record<string, unknown>;
  personId: string;
  roomId: string;
  created: string;
}

export interface AttachmentActionCreatedEvent {
  resource: 'attachmentActions';
  event: 'created';
  actorId: string;
  data: {
    id: string;
    messageId: string;
    roomId: string;
    personId: string;
    type: string;
    inputs?: Record<string, unknown>;
    created: string;
  };
}

/**
 * A list call's answer (webex-core's Page): one page of items, and whether the `Link` header names a
 * next one. Its next() follows that URL as it is, which for a bot's group listing drops
 * `mentionedPeople` (403 from Webex): page with `beforeMessage` instead.
 */
export interface SdkPage<T> {
  readonly items: T[];
  hasNext(): boolean;
}

export interface WebexMessages extends SdkEvents {
  create(message: NewMessage): Promise<HydraMessage>;
  /** GET {hydra}/messages?roomId=...: newest first (qs: max, beforeMessage, before, mentionedPeople). */
  list(qs: Record<string, unknown>): Promise<SdkPage<HydraMessage>>;
  get(id: string | { id: string }): Promise<HydraMessage>;
  remove(id: string | { id: string }): Promise<unknown>;
  /**
   * Connects mercury (default session) and subscribes to its `event:conversation.activity`.
   * There is no matching teardown: `stopListening()` (from SdkEvents) only drops the subscription,
   * it does not disconnect mercury.
   */
  listen(): Promise<void>;
}

export interface WebexAttachmentActions extends SdkEvents {
  /** GET {hydra}/attachment/actions/{id} */
  get(id: string): Promise<HydraAttachmentAction>;
  /** Reuses the default mercury session; subscribes to cardAction activities. */
  listen(): Promise<void>;
}

export interface HydraPerson {
  id: string;
  emails: string[];
  displayName: string;
  type?: string;
  orgId?: string;
}

export interface HydraRoom {
  id: string;
  title: string;
  type: 'direct' | 'group';
  lastActivity?: string;
  created?: string;
}

/** One call through webex-core's request(), as the SDK's public plugins make them. */
export interface SdkRequest {
  service: 'hydra';
  method: 'GET' | 'POST' | 'DELETE';
  /** The path under the service's URL. */
  resource: string;
  qs?: Record<string, string | number>;
  /** Sent as JSON. */
  body?: unknown;
}

/** What request() resolves with; it rejects with a WebexHttpError (statusCode, headers, body) on any status over 399. */
export interface SdkResponse<T> {
  statusCode: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/** An instance as toodles makes it: WebexCore with the device and Mercury plugins, and its request(). */
export interface WebexSdk {
  readonly internal: {
    device: WebexDevice;
    mercury: WebexMercury;
  };
  /** Resolves once the SDK finished its own async init (storage, credentials). */
  readonly canAuthorize: boolean;
  /** event: 'ready' among others. */
  once(event: string, handler: (...args: never[]) => void): unknown;
  readonly ready: boolean;
  /** Every REST call goes through it (auth, service catalog, the interceptors; the proxy hook wraps it). */
  request<T>(options: SdkRequest): Promise<SdkResponse<T>>;
}

/** An instance with the SDK's public plugins too, as a plain SDK user has it (the test kits). */
export interface WebexSdkWithPlugins extends WebexSdk {
  messages: WebexMessages;
  attachmentActions: WebexAttachmentActions;
  /** id: a person id, or 'me'. */
  people: { get(id: string): Promise<HydraPerson> };
  /** list: GET {hydra}/rooms/ (qs: sortBy, max, type). */
  rooms: { get(id: string): Promise<HydraRoom>; list(qs?: Record<string, unknown>): Promise<SdkPage<HydraRoom>> };
}
