// The narrow surface the rest of toodles sees of Webex. Only src/webex/ knows the SDK exists.

export interface BotIdentity {
  id: string;
  displayName: string;
  emails: string[];
}

/** What arrives on a connection before anything is fetched: enough to de-duplicate and route. */
export interface IncomingActivity {
  /** Hydra id of the message (for posts) or of the card action (for submits). */
  id: string;
  kind: 'message' | 'cardAction';
  actorId: string;
  roomId: string;
}

export interface IncomingMessage {
  id: string;
  roomId: string;
  roomType: 'direct' | 'group';
  personId: string;
  personEmail: string;
  text: string;
  /** The message carries files (it may have no text at all). */
  hasFiles: boolean;
  parentId?: string;
  /** When it was sent (epoch ms, Webex's clock). */
  created: number;
}

/** One of the bot's spaces, as the catch-up lists them. */
export interface RoomSummary {
  id: string;
  type: 'direct' | 'group';
  /** When anything last happened in it (epoch ms). */
  lastActivity: number;
}

/** One page of a space's messages, newest first. */
export interface MessagePage {
  items: IncomingMessage[];
  /** Webex has older ones. */
  more: boolean;
}

export interface Person {
  id: string;
  email: string;
  displayName: string;
  isBot: boolean;
}

export interface CardAction {
  id: string;
  messageId: string;
  roomId: string;
  personId: string;
  inputs: Record<string, unknown>;
}

export interface OutgoingMessage {
  roomId: string;
  markdown: string;
  parentId?: string;
  attachments?: AdaptiveCardAttachment[];
}

export interface AdaptiveCardAttachment {
  contentType: 'application/vnd.microsoft.card.adaptive';
  content: Record<string, unknown>;
}

/** Why a connection ended, as the socket reported it. */
export interface CloseInfo {
  code?: number;
  reason: string;
}

export interface LinkConnection {
  readonly id: string;
  /** Last time anything (event, pong) arrived on this socket; the supervisor's liveness check reads it. */
  lastHeardAt(): number;
  onActivity(listener: (activity: IncomingActivity) => void): void;
  onClose(listener: (info: CloseInfo) => void): void;
  /** Webex announced it will close this socket soon (a `shutdown` frame): time to move, gracefully. */
  onRetiring(listener: () => void): void;
  /** Closes the socket without the SDK reconnecting it by itself. Never throws. */
  close(): Promise<void>;
}

export interface WebexApi {
  getMessage(id: string, signal?: AbortSignal): Promise<IncomingMessage>;
  getCardAction(id: string, signal?: AbortSignal): Promise<CardAction>;
  send(message: OutgoingMessage, signal?: AbortSignal): Promise<{ id: string }>;
  deleteMessage(id: string, signal?: AbortSignal): Promise<void>;
  getPerson(id: string, signal?: AbortSignal): Promise<Person>;
}

/** What a bot may read of its spaces' history (the catch-up after a gap). */
export interface WebexHistory {
  /** The bot's spaces, most recently active first: at most `max` (1-1000). */
  listRooms(max: number, signal?: AbortSignal): Promise<RoomSummary[]>;
  /**
   * One page of a space's messages, newest first, only those older than `beforeMessage` when given.
   * In a group space only the ones that mention the bot (Webex lets a bot list no others there).
   */
  listMessages(
    query: { roomId: string; roomType: RoomSummary['type']; max: number; beforeMessage?: string },
    signal?: AbortSignal,
  ): Promise<MessagePage>;
}

export interface WebexLink extends WebexApi {
  /** Authenticates, learns who the bot is and registers (or refreshes) the device. */
  start(signal: AbortSignal): Promise<BotIdentity>;
  /** Opens one more socket on the same device; resolves once it is online (buffer_state seen). */
  connect(signal: AbortSignal): Promise<LinkConnection>;
  /** The next connect() uses a fresh SDK instance on the same device; the old one retires with its sockets. */
  renew(reason: string): void;
  /** Like renew(), but the fresh instance registers a new device; the old one is deleted once its sockets are gone. */
  rebuild(reason: string): void;
  /** Closes every socket, unregisters the device and releases the SDK. */
  shutdown(signal: AbortSignal): Promise<void>;
}

/** Socket close codes after which no retry can help: the token or the request was refused. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([4400, 4401, 4403]);

/** Webex refused us for a reason no retry can fix (token rejected, 4401/4403). */
export class FatalWebexError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'FatalWebexError';
  }
}

/** A REST call Webex answered with 404: the thing is gone; retrying will not bring it back. */
export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what}: not found (404)`);
    this.name = 'NotFoundError';
  }
}
