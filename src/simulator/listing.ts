/**
 * The listing calls a bot makes to catch up, with Webex's rules for bots: GET /v1/rooms and
 * GET /v1/messages. Lists are newest first; a page that leaves more behind names the next page's
 * query, which rest.ts sends as a `Link: <...>; rel="next"` header.
 */
import { messageDto, roomDto } from './dto.js';
import { HttpError } from './http-util.js';
import type { SimMessage, SimPerson, SimRoom, SimState } from './state.js';

export interface Listing {
  items: Record<string, unknown>[];
  /** The next page's query, when more remain. */
  next?: URLSearchParams;
}

const lastActivity = (r: SimRoom): number => Date.parse(r.lastActivity ?? r.created);

/** sortBy values Webex documents; `lastactivity` and `created` list the most recent first. */
const ROOM_ORDER = new Map<string, (a: SimRoom, b: SimRoom) => number>([
  ['id', (a, b) => a.id.localeCompare(b.id)],
  ['lastactivity', (a, b) => lastActivity(b) - lastActivity(a)],
  ['created', (a, b) => Date.parse(b.created) - Date.parse(a.created)],
]);

/** GET /v1/rooms[?sortBy=][&type=][&max=][&cursor=]: the actor's spaces; the Link cursor is opaque, as Webex's. */
export function listRooms(state: SimState, actor: SimPerson, q: URLSearchParams): Listing {
  const max = maxParam(q, 100, 1000);
  const sortBy = q.get('sortBy');
  const order = sortBy === null ? undefined : ROOM_ORDER.get(sortBy);
  if (sortBy !== null && !order) throw new HttpError(400, `sortBy must be one of ${[...ROOM_ORDER.keys()].join(', ')}`);
  const type = q.get('type');
  if (type !== null && type !== 'direct' && type !== 'group') throw new HttpError(400, 'type must be direct or group');
  const cursor = q.get('cursor');
  const offset = cursor === null ? 0 : Number(Buffer.from(cursor, 'base64url').toString());
  if (!Number.isInteger(offset) || offset < 0) throw new HttpError(400, 'bad cursor');

  const rooms = [...state.rooms.values()].filter((r) => r.memberEmails.includes(actor.email) && (type === null || r.type === type));
  if (order) rooms.sort(order);
  const end = offset + max;
  if (end >= rooms.length) return { items: rooms.slice(offset).map(roomDto) };
  const next = new URLSearchParams(q);
  next.set('cursor', Buffer.from(String(end)).toString('base64url'));
  return { items: rooms.slice(offset, end).map(roomDto), next };
}

/**
 * GET /v1/messages?roomId=[&max=][&before=][&beforeMessage=][&mentionedPeople=]. A bot may list a
 * 1:1 space whole; in a group space only the messages that mention it (`mentionedPeople=me`, 403
 * without), at most 100 at a time. The next page's query drops `mentionedPeople`, as Webex's does.
 */
export function listMessages(state: SimState, actor: SimPerson, q: URLSearchParams): Listing {
  const roomId = q.get('roomId');
  if (!roomId) throw new HttpError(400, 'roomId is required');
  const room = state.roomById(roomId);
  if (!room || !room.memberEmails.includes(actor.email)) throw new HttpError(404, 'Could not find a room with provided ID.');
  const mentioned = q
    .get('mentionedPeople')
    ?.split(',')
    .map((p) => (p === 'me' ? actor.id : p));
  if (room.type === 'group' && !(mentioned?.length === 1 && mentioned[0] === actor.id))
    throw new HttpError(403, 'Bots can only list messages in group spaces that mention them: add mentionedPeople=me.');
  const max = maxParam(q, 50, mentioned ? 100 : 1000);

  const inRoom = newestFirst(state, room);
  let from = 0;
  const beforeMessage = q.get('beforeMessage');
  if (beforeMessage !== null) {
    from = inRoom.findIndex((m) => m.id === beforeMessage) + 1;
    if (from === 0) throw new HttpError(404, 'beforeMessage: no such message in this room');
  }
  const before = q.get('before');
  const beforeMs = before === null ? Infinity : Date.parse(before);
  if (Number.isNaN(beforeMs)) throw new HttpError(400, 'before must be an ISO 8601 time');

  const mentions = (m: SimMessage) => !mentioned || mentioned.every((id) => m.mentionedPeople?.includes(id));
  const matching = inRoom.slice(from).filter((m) => !m.deleted && Date.parse(m.created) < beforeMs && mentions(m));
  const page = matching.slice(0, max);
  const last = page.at(-1);
  if (matching.length <= max || !last) return { items: page.map(messageDto) };
  const next = new URLSearchParams({ roomId: room.id, max: String(max), beforeMessage: last.id });
  return { items: page.map(messageDto), next };
}

/** A room's messages (deleted ones too), newest first; those of the same millisecond in the order they were written. */
export function newestFirst(state: SimState, room: SimRoom): SimMessage[] {
  return [...state.messages.values()]
    .map((m, order) => ({ m, at: Date.parse(m.created), order }))
    .filter(({ m }) => m.roomId === room.id)
    .sort((a, b) => b.at - a.at || b.order - a.order)
    .map(({ m }) => m);
}

/** `max`: a whole number from 1 to `limit`, `fallback` when absent; 400 otherwise, as Webex answers. */
function maxParam(q: URLSearchParams, fallback: number, limit: number): number {
  const raw = q.get('max');
  if (raw === null) return fallback;
  const max = Number(raw);
  if (!Number.isInteger(max) || max < 1 || max > limit)
    throw new HttpError(400, `max must be a whole number from 1 to ${limit} (got ${raw})`);
  return max;
}
