/** The simulator's public shape: what startSimulator returns and what the /_sim/ control API drives. */
import type { MalformedKind, Redelivery } from './faults.js';
import type { LogSink, TrafficLine } from './log.js';
import type { SimConnection } from './mercury.js';
import type { SimMessage, SimPerson, SimRoom } from './state.js';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  logTraffic?: LogSink;
  botDisplayName?: string;
  botEmail?: string;
  /** 'none' (default): an event reaches only the sockets online when it is sent. 'queue': un-acked events wait for the device's next socket. */
  redelivery?: Redelivery;
}

export interface SimDeviceInfo {
  id: string;
  url: string;
  webSocketUrl: string;
  registeredAt: number;
  deleted: boolean;
  refreshes: number;
  /** Events written to this device's sockets and not yet acked (under 'queue', also those waiting for its next socket). */
  pending: number;
}

/** Plain functions, not methods: the control API looks one up by name and calls it on its own. */
export interface SimFaults {
  /** Drop every open socket (or one device's) without a close frame: the SDK sees 1006. Returns sockets hit. */
  killSockets: (deviceId?: string) => number;
  /** Close sockets with a code/reason (1000, 1011, 4000, 4001 [shutdown frame first], 4401, 4403...). */
  closeSockets: (code: number, reason?: string, opts?: { deviceId?: string; graceMs?: number }) => number;
  /** Socket stays open; no pongs, no events (lost, or under redelivery 'queue' sent on the next socket). */
  silence: (on?: boolean) => void;
  /** Stop reading sockets at the TCP level (pings/acks never read). */
  stopReading: (on?: boolean) => void;
  /** Answer websocket upgrades with HTTP `status` (default 503) for `forMs` ms and/or `count` attempts (forever if neither). */
  refuseUpgrades: (opts?: { forMs?: number; count?: number; status?: number } | false) => void;
  /** Accept sockets and authorization but never send mercury.buffer_state. */
  withholdBufferState: (on?: boolean) => void;
  /** A zombie server: open sockets fall silent and new upgrade requests are never answered (REST still works). */
  zombie: (on?: boolean) => void;
  /** A black-holed path: open sockets go quiet both ways, new TCP connections are accepted and never answered. */
  blackhole: (on?: boolean) => void;
  /** Fail REST requests whose path contains `path` (or matches it when it starts with '^'). Returns a rule id. */
  failRest: (opts: { path: string; status: number; method?: string; retryAfterSec?: number; count?: number }) => number;
  /** Delay REST responses. Returns a rule id. */
  slowRest: (opts: { path: string; delayMs: number; method?: string; count?: number }) => number;
  /** Send one malformed frame to open sockets. */
  malformedFrame: (kind?: MalformedKind, deviceId?: string) => number;
  /** Send one valid but oversized frame (default 2 MB of padding). */
  oversizedFrame: (bytes?: number, deviceId?: string) => number;
  /** Refuse device registration with "User has excessive device registrations" (always, or once `limit` devices are active). */
  excessiveDeviceRegistrations: (opts?: { limit?: number } | false) => void;
  /** A new socket on a device closes the device's other sockets with 4000 "replaced", despite multipleConnections=true. */
  replaceOnNewConnection: (on?: boolean) => void;
  /**
   * Deaf but alive: Webex keeps answering pings on this device's sockets (default: every registered
   * device) but delivers it no events, until the bot registers a new device. Returns devices hit.
   */
  deafDevice: (deviceId?: string) => number;
  /** Switch re-delivery at run time (see SimulatorOptions.redelivery); clear() returns to the start option. */
  redelivery: (mode: Redelivery) => void;
  /** Current switches, for logs and the control API. */
  snapshot: () => Record<string, unknown>;
  clear: () => void;
}

/** A message a person (or the bot, as history) posts through the simulator. */
export interface NewSimMessage {
  from: string;
  roomId: string;
  /** With `files` it may be empty, and then the message has none. */
  text: string;
  parentId?: string;
  /** In a group space (default true): the text starts with the bot's name and `mentionedPeople` holds it. */
  mentionBot?: boolean;
  /** Content URLs of attached files. */
  files?: string[];
  /**
   * Epoch ms, not in the future: history. The message was sent then (its `created` and the room's
   * `lastActivity`), is listed over REST, and is never delivered nor among botMessages().
   */
  at?: number;
}

export interface Simulator {
  baseUrl: string;
  u2cUrl: string;
  hydraUrl: string;
  controlUrl: string;
  /** Fake, but shaped like a real bot token (`<x>_<cluster>_<orgUuid>`) so the SDK fetches the catalog. */
  botToken: string;
  bot: { id: string; email: string; displayName: string };
  /** A person, or another bot with `type: 'bot'` (any domain: addresses are not checked). */
  addPerson(p: { email: string; displayName?: string; type?: 'person' | 'bot' }): SimPerson;
  /** Another identity (a second bot, like a canary) with its own token: it can post to the bot over REST and read the replies. */
  addIdentity(p: { email: string; displayName?: string }): { token: string; person: SimPerson };
  directRoom(personEmail: string): SimRoom;
  groupRoom(title: string, memberEmails: string[]): SimRoom;
  postMessage(m: NewSimMessage): SimMessage;
  submitCard(c: { from: string; cardMessageId: string; inputs: Record<string, unknown> }): { actionId: string };
  botMessages(): SimMessage[];
  repliesTo(messageId: string): SimMessage[];
  waitForBotMessage(pred: (m: SimMessage) => boolean, timeoutMs?: number): Promise<SimMessage>;
  devices(): SimDeviceInfo[];
  connections(): SimConnection[];
  /** Everything logged so far (requests, frames, fault actions), most recent last. */
  traffic(): TrafficLine[];
  faults: SimFaults;
  stop(): Promise<void>;
}
