import type { Logger } from 'pino';
import { errorText } from '../util/error-text.js';
import type { IncomingMessage, RoomSummary, WebexHistory } from '../webex/types.js';

/** How much one round may ask of Webex; what lies beyond is counted as left over. */
export interface ListLimits {
  /** Spaces scanned per round. */
  spaces: number;
  /** Messages taken per round, all spaces together. */
  messages: number;
  /** Listing requests in flight at once. */
  inFlight: number;
}

export const DEFAULT_LIMITS: ListLimits = { spaces: 50, messages: 500, inFlight: 3 };

/** Spaces asked for in one request: twice the cap, so that the cap, not the page, decides what is left over. */
const ROOM_PAGE = 100;
/** Messages asked for per request (Webex allows no more in a group space). */
const MESSAGE_PAGE = 100;

/** A space's messages in the window that are not the bot's own, oldest first. */
export interface SpaceFindings {
  room: RoomSummary;
  messages: IncomingMessage[];
}

export interface ListingTotals {
  /** Spaces whose messages were listed. */
  spaces: number;
  /** Listing requests made (each counted once, whatever its retries). */
  requests: number;
  /** Spaces active in the window that were not scanned to its start, because a cap was reached. */
  leftOver: number;
  /** Spaces whose listing failed (logged each). */
  failedSpaces: number;
}

export interface ListWindow {
  /** The earliest time of interest: spaces and messages older than this are not listed. */
  from: number;
  botId: string;
}

/**
 * Lists what people sent the bot since `from`: the spaces active since then (most recent first, up
 * to the cap), and in each the messages since then, paged with `beforeMessage` (never Webex's `Link`
 * URL, which drops the bot's `mentionedPeople=me` in a group space). Each space's findings go to
 * `found` as soon as they are complete, so answering starts while other spaces are still listed.
 */
export async function listWindow(
  history: WebexHistory,
  w: ListWindow,
  opts: { limits: ListLimits; log: Logger; signal: AbortSignal; found: (f: SpaceFindings) => void },
): Promise<ListingTotals> {
  const { limits, log, signal } = opts;
  const rooms = await history.listRooms(ROOM_PAGE, signal);
  const totals: ListingTotals = { spaces: 0, requests: 1, leftOver: 0, failedSpaces: 0 };
  const firstOlder = rooms.findIndex((r) => r.lastActivity < w.from);
  const active = firstOlder === -1 ? rooms : rooms.slice(0, firstOlder);
  const scanned = active.slice(0, limits.spaces);
  totals.leftOver += active.length - scanned.length;
  let budget = limits.messages;

  const listSpace = async (room: RoomSummary): Promise<void> => {
    if (budget <= 0) {
      totals.leftOver += 1;
      return;
    }
    const newestFirst: IncomingMessage[] = [];
    let beforeMessage: string | undefined;
    let cut = false;
    try {
      for (;;) {
        const page = await history.listMessages({ roomId: room.id, roomType: room.type, max: MESSAGE_PAGE, beforeMessage }, signal);
        totals.requests += 1;
        const inWindow = page.items.filter((m) => m.created >= w.from);
        const theirs = inWindow.filter((m) => m.personId !== w.botId);
        const taken = theirs.slice(0, budget);
        budget -= taken.length;
        newestFirst.push(...taken);
        const last = page.items.at(-1);
        // Cut short by the cap: what it left is counted, not listed.
        cut = taken.length < theirs.length;
        if (cut || !last || inWindow.length < page.items.length || !page.more) break;
        cut = budget <= 0;
        if (cut) break;
        beforeMessage = last.id;
      }
    } catch (err) {
      if (signal.aborted) throw err;
      totals.failedSpaces += 1;
      log.warn({ event: 'catchup.space_failed', room: room.id, roomType: room.type, err: errorText(err) });
      return;
    }
    totals.spaces += 1;
    if (cut) totals.leftOver += 1;
    if (newestFirst.length > 0) opts.found({ room, messages: newestFirst.reverse() });
  };

  await inParallel(scanned, limits.inFlight, listSpace);
  return totals;
}

/** Runs `work` on every item, at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = items.values(); // shared: each worker takes the next item
  const worker = async () => {
    for (const item of queue) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
