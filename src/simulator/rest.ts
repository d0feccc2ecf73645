/**
 * The Webex REST surface the bot's SDK uses: u2c catalogs, hydra (public API), wdm (devices), metrics.
 * Routes are matched by path prefix; see catalog.ts for where each prefix comes from.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostmap, serviceUrls } from './catalog.js';
import { messageDto, roomDto } from './dto.js';
import type { FaultState } from './faults.js';
import { HttpError, hydraError, readJson, sendJson } from './http-util.js';
import { hydraId, newUuid } from './ids.js';
import { listMessages, listRooms, newestFirst, type Listing } from './listing.js';
import { MERCURY_PATH } from './mercury.js';
import type { SimAttachment, SimDevice, SimPerson, SimRoom, SimState } from './state.js';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

export interface RestContext {
  state: SimState;
  faults: FaultState;
  baseUrl: () => string;
  botToken: string;
  orgId: string;
  /** Other identities' tokens (see Simulator.addIdentity); they may use hydra, not devices. */
  identities: Map<string, SimPerson>;
}

/** body: the request's JSON as the client sent it; a route checks each field it reads. */
type Route = { auth: boolean; botOnly?: boolean; run: (body: Record<string, unknown>, q: URLSearchParams, actor: SimPerson) => Reply };

export class RestApi {
  constructor(private readonly ctx: RestContext) {}

  /** Returns false when the path is not ours (so the caller can 404 or try another router). */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<boolean> {
    const method = req.method ?? 'GET';
    const route = this.route(method, path);
    if (!route) return false;

    // Faults first: a matching rule may delay and/or fail the request.
    const rule = this.ctx.faults.takeRestRule(method, path);
    if (rule?.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
    if (rule?.status) {
      const headers: Record<string, string> = rule.retryAfterSec !== undefined ? { 'retry-after': String(rule.retryAfterSec) } : {};
      sendJson(res, rule.status, hydraError(rule.status, `simulated ${rule.status}`), headers);
      return true;
    }

    const actor = this.actorFor(req.headers.authorization);
    if (route.auth && !actor) {
      sendJson(res, 401, hydraError(401, 'The request requires a valid access token set in the Authorization request header.'));
      return true;
    }
    if (route.botOnly && actor !== this.ctx.state.bot) {
      sendJson(res, 403, hydraError(403, 'only the bot has devices in the simulator'));
      return true;
    }
    try {
      const body = method === 'GET' || method === 'DELETE' ? {} : await readJson(req);
      const r = route.run(body, query, actor ?? this.ctx.state.bot);
      sendJson(res, r.status, r.body, r.headers);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      sendJson(res, e.status, hydraError(e.status, e.message), e.headers);
    }
    return true;
  }

  private actorFor(authorization: string | undefined): SimPerson | undefined {
    const token = authorization?.replace(/^Bearer /, '');
    if (!token) return undefined;
    return token === this.ctx.botToken ? this.ctx.state.bot : this.ctx.identities.get(token);
  }

  private route(method: string, path: string): Route | undefined {
    const { state } = this.ctx;
    const seg = (re: RegExp) => re.exec(path);
    let m: RegExpExecArray | null;

    // --- u2c: the limited (pre-auth) catalog needs no token; the full one does.
    if (method === 'GET' && path === '/u2c/api/v1/limited/catalog')
      return { auth: false, run: () => ({ status: 200, body: hostmap(this.ctx.baseUrl(), this.ctx.orgId) }) };
    if (method === 'GET' && path === '/u2c/api/v1/catalog')
      return { auth: true, run: () => ({ status: 200, body: hostmap(this.ctx.baseUrl(), this.ctx.orgId) }) };

    // --- metrics sink: the SDK posts client metrics; accept and forget.
    if (path.startsWith('/metrics/api/v1/')) return { auth: false, run: () => ({ status: 204 }) };

    // --- wdm: device registrations.
    if (method === 'POST' && path === '/wdm/api/v1/devices') return { auth: true, botOnly: true, run: (b) => this.registerDevice(b) };
    if (method === 'GET' && path === '/wdm/api/v1/devices')
      return {
        auth: true,
        botOnly: true,
        run: () => ({
          status: 200,
          body: { devices: [...state.devices.values()].filter((d) => !d.deleted).map((d) => this.deviceDto(d)) },
        }),
      };
    if ((m = seg(/^\/wdm\/api\/v1\/devices\/([^/]+)$/))) {
      const device = state.devices.get(m[1]!);
      const live = () => {
        // WDM answers 404 for unknown or deleted devices; the SDK's refresh then registers anew.
        if (!device || device.deleted) throw new HttpError(404, 'device not found');
        return device;
      };
      if (method === 'PUT')
        return {
          auth: true,
          botOnly: true,
          run: (b) => {
            const d = live();
            d.refreshes++;
            d.modifiedAt = Date.now();
            d.body = { ...d.body, ...b };
            return { status: 200, body: this.deviceDto(d) };
          },
        };
      if (method === 'GET') return { auth: true, botOnly: true, run: () => ({ status: 200, body: this.deviceDto(live()) }) };
      if (method === 'DELETE')
        return {
          auth: true,
          botOnly: true,
          run: () => {
            live().deleted = true;
            return { status: 204 };
          },
        };
    }

    // --- hydra: the public REST API.
    if (!path.startsWith('/v1/')) return undefined;
    const p = path.slice(3);
    if (method === 'GET' && (m = /^\/people\/([^/]+)$/.exec(p))) {
      const id = m[1]!;
      return {
        auth: true,
        run: (_b, _q, actor) => {
          const person = id === 'me' ? actor : state.personById(id);
          if (!person) throw new HttpError(404, 'person not found');
          return { status: 200, body: this.personDto(person) };
        },
      };
    }
    if (method === 'POST' && p === '/messages') return { auth: true, run: (b, _q, actor) => this.createMessage(b, actor) };
    if (method === 'GET' && p === '/messages')
      return { auth: true, run: (_b, q, actor) => this.listed('/messages', listMessages(state, actor, q)) };
    if (method === 'GET' && p === '/messages/direct') return { auth: true, run: (_b, q, actor) => this.directMessages(q, actor) };
    if ((m = /^\/messages\/([^/]+)$/.exec(p))) {
      const id = m[1]!;
      const find = () => {
        const msg = state.messageById(id);
        if (!msg || msg.deleted) throw new HttpError(404, 'The requested resource could not be found.');
        return msg;
      };
      if (method === 'GET') return { auth: true, run: () => ({ status: 200, body: messageDto(find()) }) };
      if (method === 'DELETE')
        return {
          auth: true,
          run: () => {
            state.deleteMessage(find(), state.bot);
            return { status: 204 };
          },
        };
    }
    if (method === 'GET' && (m = /^\/attachment\/actions\/([^/]+)$/.exec(p))) {
      const id = m[1]!;
      return {
        auth: true,
        run: () => {
          const a = [...state.actions.values()].find((x) => x.id === id || x.uuid === id);
          if (!a) throw new HttpError(404, 'attachment action not found');
          const { uuid: _uuid, ...dto } = a;
          return { status: 200, body: dto };
        },
      };
    }
    // The SDK's rooms.list() asks for `rooms/`.
    if (method === 'GET' && (p === '/rooms' || p === '/rooms/'))
      return { auth: true, run: (_b, q, actor) => this.listed('/rooms', listRooms(state, actor, q)) };
    if (method === 'GET' && (m = /^\/rooms\/([^/]+)$/.exec(p))) {
      const id = m[1]!;
      return {
        auth: true,
        run: () => {
          const r = state.roomById(id);
          if (!r) throw new HttpError(404, 'room not found');
          return { status: 200, body: roomDto(r) };
        },
      };
    }
    if (method === 'GET' && p === '/memberships')
      return { auth: true, run: (_b, q) => ({ status: 200, body: { items: this.memberships(q) } }) };
    return undefined;
  }

  /** A list answer; `Link: <url>; rel="next"` when more remain (RFC 5988, as Webex pages). */
  private listed(path: string, { items, next }: Listing): Reply {
    const headers = next ? { link: `<${serviceUrls(this.ctx.baseUrl()).hydra}${path}?${next.toString()}>; rel="next"` } : undefined;
    return { status: 200, body: { items }, headers };
  }

  private registerDevice(body: Record<string, unknown>): Reply {
    const { state, faults } = this.ctx;
    const ex = faults.excessiveRegistrations;
    const active = [...state.devices.values()].filter((d) => !d.deleted).length;
    if (ex && (ex.limit === undefined || active >= ex.limit)) {
      // The exact message the SDK looks for before deleting a third of its devices and retrying.
      return { status: 403, body: { message: 'User has excessive device registrations', errorCode: 102003 } };
    }
    const uuid = newUuid();
    const urls = serviceUrls(this.ctx.baseUrl());
    const now = Date.now();
    const d: SimDevice = {
      uuid,
      url: `${urls.wdm}/devices/${uuid}`,
      webSocketUrl: `${this.ctx.baseUrl().replace(/^http/, 'ws')}${MERCURY_PATH}/${uuid}/messages`,
      registeredAt: now,
      modifiedAt: now,
      deleted: false,
      refreshes: 0,
      body,
    };
    state.devices.set(uuid, d);
    return { status: 200, body: this.deviceDto(d) };
  }

  private deviceDto(d: SimDevice): Record<string, unknown> {
    return {
      ...d.body,
      url: d.url,
      webSocketUrl: d.webSocketUrl,
      deviceType: d.body.deviceType ?? 'WEB',
      modificationTime: new Date(d.modifiedAt).toISOString(),
      creationTime: new Date(d.registeredAt).toISOString(),
      userId: this.ctx.state.bot.uuid,
      features: { developer: [], entitlement: [], user: [] },
      services: {},
    };
  }

  /** The 1:1 space between the actor and a person; anyone but the bot has one only with the bot. */
  private directRoomWith(actor: SimPerson, person: SimPerson | undefined): SimRoom | undefined {
    const { state } = this.ctx;
    if (!person) return undefined;
    if (actor === state.bot) return state.directRoom(person.email);
    if (person !== state.bot) throw new HttpError(403, 'in the simulator, identities other than the bot only talk to the bot');
    return state.directRoom(actor.email);
  }

  private directMessages(q: URLSearchParams, actor: SimPerson): Reply {
    const { state } = this.ctx;
    const email = q.get('personEmail');
    const room = this.directRoomWith(actor, email ? state.personByEmail(email) : state.personById(q.get('personId') ?? ''));
    if (!room) throw new HttpError(404, 'person not found');
    const parentId = q.get('parentId');
    const items = newestFirst(state, room)
      .filter((m) => !m.deleted && (!parentId || m.parentId === parentId))
      .map(messageDto);
    return { status: 200, body: { items } };
  }

  private createMessage(b: Record<string, unknown>, actor: SimPerson): Reply {
    const { state } = this.ctx;
    if (actor !== state.bot) return this.createMessageAs(actor, b);
    let room: SimRoom | undefined;
    if (typeof b.roomId === 'string') room = state.roomById(b.roomId);
    else if (typeof b.toPersonEmail === 'string') room = state.directRoom(b.toPersonEmail);
    else if (typeof b.toPersonId === 'string') {
      const person = state.personById(b.toPersonId);
      if (person) room = state.directRoom(person.email);
    } else throw new HttpError(400, 'roomId, toPersonId or toPersonEmail is required');
    if (!room) throw new HttpError(404, 'Could not find a room with provided ID.');
    if (b.text === undefined && b.markdown === undefined && !b.files && !b.attachments)
      throw new HttpError(400, 'Message must contain text, markdown, files or attachments');
    if (b.parentId && (typeof b.parentId !== 'string' || !state.messageById(b.parentId)))
      throw new HttpError(404, 'parent message not found');
    const attachments = b.attachments ? adaptiveCards(b.attachments) : undefined;
    const msg = state.addMessage({
      author: state.bot,
      room,
      // Hydra always returns a plain `text`; for markdown-only messages it is the rendered text.
      text: typeof b.text === 'string' ? b.text : typeof b.markdown === 'string' ? b.markdown : undefined,
      markdown: typeof b.markdown === 'string' ? b.markdown : undefined,
      parentId: typeof b.parentId === 'string' ? b.parentId : undefined,
      attachments,
    });
    return { status: 200, body: messageDto(msg) };
  }

  /** Another identity posts: only into its 1:1 space with the bot (by roomId, toPersonEmail or toPersonId). */
  private createMessageAs(actor: SimPerson, b: Record<string, unknown>): Reply {
    const { state } = this.ctx;
    const target =
      typeof b.toPersonEmail === 'string'
        ? state.personByEmail(b.toPersonEmail)
        : typeof b.toPersonId === 'string'
          ? state.personById(b.toPersonId)
          : undefined;
    const room = typeof b.roomId === 'string' ? state.roomById(b.roomId) : this.directRoomWith(actor, target);
    if (!room || !room.memberEmails.includes(actor.email)) throw new HttpError(404, 'Could not find a room with provided ID.');
    const text = typeof b.text === 'string' ? b.text : undefined;
    const markdown = typeof b.markdown === 'string' ? b.markdown : undefined;
    if (text === undefined && markdown === undefined) throw new HttpError(400, 'Message must contain text or markdown');
    const msg = state.addMessage({
      author: actor,
      room,
      text: text ?? markdown,
      markdown,
      parentId: typeof b.parentId === 'string' ? b.parentId : undefined,
    });
    return { status: 200, body: messageDto(msg) };
  }

  private personDto(p: SimPerson): Record<string, unknown> {
    return {
      id: p.id,
      emails: [p.email],
      displayName: p.displayName,
      nickName: p.displayName,
      orgId: hydraId('ORGANIZATION', this.ctx.orgId),
      type: p.type,
      created: '2024-01-01T00:00:00.000Z',
    };
  }

  private memberships(q: URLSearchParams): Record<string, unknown>[] {
    const roomId = q.get('roomId');
    const rooms = [...this.ctx.state.rooms.values()].filter((r) => !roomId || r.id === roomId);
    return rooms.flatMap((r) =>
      r.memberEmails.map((email) => {
        const person = this.ctx.state.personByEmail(email)!;
        return {
          id: hydraId('MEMBERSHIP', `${person.uuid}:${r.uuid}`),
          roomId: r.id,
          personId: person.id,
          personEmail: person.email,
          personDisplayName: person.displayName,
          isModerator: false,
          created: '2024-01-01T00:00:00.000Z',
        };
      }),
    );
  }
}

/** A bot's message may carry adaptive cards and nothing else. */
function adaptiveCards(attachments: unknown): SimAttachment[] {
  const isCard = (a: unknown): a is SimAttachment =>
    typeof a === 'object' && a !== null && 'contentType' in a && a.contentType === 'application/vnd.microsoft.card.adaptive';
  if (!Array.isArray(attachments) || !attachments.every(isCard)) throw new HttpError(400, 'attachments must be adaptive cards');
  return attachments;
}
