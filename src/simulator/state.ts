/**
 * The simulated world: people, rooms, messages, card actions and the bot's WDM devices.
 * Pure data plus an event emitter; no HTTP or websocket code here.
 *
 * Every new message and card submit becomes a Mercury `conversation.activity` (see activity()),
 * which mercury.ts delivers to the bot's devices.
 */
import { EventEmitter } from 'node:events';
import { hydraId, newUuid, parseHydraId } from './ids.js';

export interface SimPerson {
  uuid: string;
  id: string;
  email: string;
  displayName: string;
  type: 'person' | 'bot';
}

export interface SimRoom {
  uuid: string;
  id: string;
  title: string;
  type: 'direct' | 'group';
  memberEmails: string[];
  /** ISO time; moved back when history older than the room is written into it (a room is never younger than its messages). */
  created: string;
  /** ISO time of the newest message, the bot's too; absent until the first (Webex then reports `created`). */
  lastActivity?: string;
}

export interface SimAttachment {
  contentType: string;
  content: unknown;
}

export interface SimMessage {
  uuid: string;
  id: string;
  roomId: string;
  roomType: 'direct' | 'group';
  personId: string;
  personEmail: string;
  text?: string;
  markdown?: string;
  html?: string;
  parentId?: string;
  attachments?: SimAttachment[];
  mentionedPeople?: string[];
  /** Content URLs of attached files. */
  files?: string[];
  created: string;
  /** True when the bot sent it via POST /messages. */
  fromBot: boolean;
  deleted?: boolean;
}

export interface SimAttachmentAction {
  uuid: string;
  id: string;
  type: 'submit';
  messageId: string;
  inputs: Record<string, unknown>;
  personId: string;
  roomId: string;
  created: string;
}

export interface SimDevice {
  uuid: string;
  url: string;
  webSocketUrl: string;
  registeredAt: number;
  modifiedAt: number;
  deleted: boolean;
  refreshes: number;
  /** The registration body the SDK sent (name, deviceType, ttl, ...). */
  body: Record<string, unknown>;
}

/** The `activity` object of a conversation.activity Mercury event. */
export interface Activity {
  id: string;
  objectType: 'activity';
  verb: 'post' | 'share' | 'cardAction' | 'delete';
  actor: { id: string; objectType: 'person'; entryUUID: string; emailAddress: string; displayName: string };
  object: Record<string, unknown>;
  target: { id: string; objectType: 'conversation'; url: string; tags: string[] };
  parent?: { id: string; type: string };
  published: string;
}

export interface StateEvents {
  activity: [Activity];
  botMessage: [SimMessage];
}

export class SimState extends EventEmitter<StateEvents> {
  readonly people = new Map<string, SimPerson>(); // by uuid
  readonly rooms = new Map<string, SimRoom>(); // by uuid
  readonly messages = new Map<string, SimMessage>(); // by uuid
  readonly actions = new Map<string, SimAttachmentAction>(); // by uuid
  readonly devices = new Map<string, SimDevice>(); // by uuid
  readonly botSent: SimMessage[] = [];
  readonly bot: SimPerson;

  /** conversationUrl: base of room URLs inside activities; its host must be in the catalog. */
  constructor(
    botEmail: string,
    botDisplayName: string,
    public conversationUrl: string,
  ) {
    super();
    this.bot = this.makePerson(botEmail, botDisplayName, 'bot');
  }

  private makePerson(email: string, displayName: string, type: SimPerson['type']): SimPerson {
    const uuid = newUuid();
    const p: SimPerson = { uuid, id: hydraId('PEOPLE', uuid), email, displayName, type };
    this.people.set(uuid, p);
    return p;
  }

  personByEmail(email: string): SimPerson | undefined {
    const e = email.toLowerCase();
    for (const p of this.people.values()) if (p.email.toLowerCase() === e) return p;
    return undefined;
  }

  personById(id: string): SimPerson | undefined {
    return this.people.get(parseHydraId(id).uuid);
  }

  addPerson(p: { email: string; displayName?: string; type?: SimPerson['type'] }): SimPerson {
    return this.personByEmail(p.email) ?? this.makePerson(p.email, p.displayName ?? p.email.split('@')[0]!, p.type ?? 'person');
  }

  private makeRoom(title: string, type: SimRoom['type'], memberEmails: string[]): SimRoom {
    const uuid = newUuid();
    const r: SimRoom = { uuid, id: hydraId('ROOM', uuid), title, type, memberEmails, created: new Date().toISOString() };
    this.rooms.set(uuid, r);
    return r;
  }

  /** The 1:1 room between a person and the bot; created on first use, like Webex does. */
  directRoom(personEmail: string): SimRoom {
    const person = this.addPerson({ email: personEmail });
    for (const r of this.rooms.values()) {
      if (r.type === 'direct' && r.memberEmails.includes(person.email)) return r;
    }
    return this.makeRoom(person.displayName, 'direct', [person.email, this.bot.email]);
  }

  groupRoom(title: string, memberEmails: string[]): SimRoom {
    for (const e of memberEmails) this.addPerson({ email: e });
    return this.makeRoom(title, 'group', [...new Set([...memberEmails, this.bot.email])]);
  }

  roomById(id: string): SimRoom | undefined {
    return this.rooms.get(parseHydraId(id).uuid);
  }

  messageById(id: string): SimMessage | undefined {
    return this.messages.get(parseHydraId(id).uuid);
  }

  /**
   * Store a message and publish its activity. Used both for people (control API) and for the bot
   * (POST /messages): the real cloud also sends the bot its own messages over Mercury.
   * With `at` (epoch ms, not in the future) it is history: stored and listed with that time, never
   * delivered, and not among what the bot sent.
   */
  addMessage(m: {
    author: SimPerson;
    room: SimRoom;
    text?: string;
    markdown?: string;
    parentId?: string;
    attachments?: SimAttachment[];
    mentionedPeople?: string[];
    files?: string[];
    at?: number;
  }): SimMessage {
    if (m.at !== undefined && !(Number.isFinite(m.at) && m.at <= Date.now()))
      throw new Error(`at must be a past time in epoch ms (got ${m.at})`);
    const uuid = newUuid();
    const msg: SimMessage = {
      uuid,
      id: hydraId('MESSAGE', uuid),
      roomId: m.room.id,
      roomType: m.room.type,
      personId: m.author.id,
      personEmail: m.author.email,
      created: new Date(m.at ?? Date.now()).toISOString(),
      fromBot: m.author === this.bot,
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.markdown !== undefined ? { markdown: m.markdown } : {}),
      ...(m.parentId ? { parentId: m.parentId } : {}),
      ...(m.attachments?.length ? { attachments: m.attachments } : {}),
      ...(m.mentionedPeople?.length ? { mentionedPeople: m.mentionedPeople } : {}),
      ...(m.files?.length ? { files: m.files } : {}),
    };
    this.messages.set(uuid, msg);
    this.noteActivity(m.room, msg.created);
    if (m.at !== undefined) return msg;
    if (msg.fromBot) {
      this.botSent.push(msg);
      this.emit('botMessage', msg);
    }
    const parentUuid = msg.parentId ? parseHydraId(msg.parentId).uuid : undefined;
    this.emit(
      'activity',
      this.activity(m.author, m.room, {
        id: uuid,
        // Webex uses verb "share" for posts with files/cards and "post" for plain text.
        verb: msg.attachments || msg.files ? 'share' : 'post',
        object: { objectType: 'comment', displayName: msg.text ?? msg.markdown ?? '' },
        ...(parentUuid ? { parent: { id: parentUuid, type: 'reply' } } : {}),
      }),
    );
    return msg;
  }

  private noteActivity(room: SimRoom, at: string): void {
    if (Date.parse(at) < Date.parse(room.created)) room.created = at;
    if (!room.lastActivity || Date.parse(at) > Date.parse(room.lastActivity)) room.lastActivity = at;
  }

  submitCard(c: { from: string; cardMessageId: string; inputs: Record<string, unknown> }): SimAttachmentAction {
    const person = this.addPerson({ email: c.from });
    const card = this.messageById(c.cardMessageId);
    if (!card) throw new Error(`no such card message: ${c.cardMessageId}`);
    const room = this.roomById(card.roomId)!;
    const uuid = newUuid();
    const action: SimAttachmentAction = {
      uuid,
      id: hydraId('ATTACHMENT_ACTION', uuid),
      type: 'submit',
      messageId: card.id,
      inputs: c.inputs,
      personId: person.id,
      roomId: room.id,
      created: new Date().toISOString(),
    };
    this.actions.set(uuid, action);
    // In the real cloud the inline inputs are encrypted; bots fetch the action by id over REST.
    this.emit(
      'activity',
      this.activity(person, room, {
        id: uuid,
        verb: 'cardAction',
        object: { objectType: 'submit', inputs: c.inputs },
        parent: { id: card.uuid, type: 'cardAction' },
      }),
    );
    return action;
  }

  deleteMessage(msg: SimMessage, by: SimPerson): void {
    msg.deleted = true;
    const room = this.roomById(msg.roomId)!;
    this.emit('activity', this.activity(by, room, { id: newUuid(), verb: 'delete', object: { objectType: 'activity', id: msg.uuid } }));
  }

  private activity(
    actor: SimPerson,
    room: SimRoom,
    a: Pick<Activity, 'id' | 'verb' | 'object'> & { parent?: Activity['parent'] },
  ): Activity {
    return {
      objectType: 'activity',
      ...a,
      actor: { id: actor.uuid, objectType: 'person', entryUUID: actor.uuid, emailAddress: actor.email, displayName: actor.displayName },
      target: {
        id: room.uuid,
        objectType: 'conversation',
        url: `${this.conversationUrl}/conversations/${room.uuid}`,
        tags: room.type === 'direct' ? ['ONE_ON_ONE'] : [],
      },
      published: new Date().toISOString(),
    };
  }

  repliesTo(messageId: string): SimMessage[] {
    const uuid = parseHydraId(messageId).uuid;
    return [...this.messages.values()].filter((m) => m.parentId && parseHydraId(m.parentId).uuid === uuid);
  }
}
