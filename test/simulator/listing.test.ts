import t from 'tap';
import { startSimulator, type SimMessage, type SimRoom, type Simulator } from '../../src/simulator/index.js';
import type { HydraMessage } from '../../src/webex/sdk-types.js';
import { exitAfterTests, startBot, type SimBot } from '../kit/sim-bot.js';
import { eventually } from '../kit/wait.js';

/** The SDK's answer to a list call: one page, and the page its `Link: rel="next"` names. */
interface SdkPage<T> {
  items: T[];
  hasNext(): boolean;
  next(): Promise<SdkPage<T>>;
}
type ListedRoom = { id: string; type: string; title: string; lastActivity: string; created: string };
type SdkError = { statusCode?: number; headers?: Record<string, string>; body?: { message?: string } };

/** The SDK's list calls; toodles' own typing (sdk-types.ts) declares only what the daemon uses. */
const listing = (bot: SimBot) => ({
  messages: (q: Record<string, unknown>) =>
    (bot.webex.messages as unknown as { list(q: Record<string, unknown>): Promise<SdkPage<HydraMessage>> }).list(q),
  rooms: (q: Record<string, unknown>) => bot.webex.rooms.list(q) as unknown as Promise<SdkPage<ListedRoom>>,
});

const failure = (p: Promise<unknown>): Promise<SdkError | undefined> =>
  p.then(
    () => undefined,
    (e: SdkError) => e,
  );

const MINUTE = 60_000;

t.test('what a bot may list over REST', async (t) => {
  exitAfterTests(t);
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  const bot = await startBot(sim);
  t.teardown(() => bot.close());
  t.afterEach(() => sim.faults.clear());
  const list = listing(bot);
  /** Pages with beforeMessage, as a client must; `seen` counts the calls. */
  const everyPage = async (q: Record<string, unknown>) => {
    const ids: string[] = [];
    let calls = 0;
    for (let before: string | undefined; ;) {
      calls++;
      const page = await list.messages({ ...q, ...(before ? { beforeMessage: before } : {}) });
      ids.push(...page.items.map((m) => m.id));
      if (!page.hasNext()) return { ids, calls };
      before = page.items.at(-1)?.id;
    }
  };

  t.test('rooms: the bot’s spaces, most recently active first, with lastActivity and created; max and Link paging', async (t) => {
    const now = Date.now();
    const quiet = sim.groupRoom('quiet', ['q@example.com']);
    const old = sim.directRoom('old@example.com');
    const recent = sim.groupRoom('recent', ['r@example.com']);
    const busiest = sim.directRoom('busy@example.com');
    sim.postMessage({ from: 'old@example.com', roomId: old.id, text: 'long ago', at: now - 30 * MINUTE });
    sim.postMessage({ from: 'r@example.com', roomId: recent.id, text: 'lately', at: now - 2 * MINUTE });
    sim.postMessage({ from: 'busy@example.com', roomId: busiest.id, text: 'earlier', at: now - 20 * MINUTE });
    // The bot's own message moves the room too.
    await bot.webex.messages.create({ roomId: busiest.id, text: 'just now' });

    const all = await list.rooms({ sortBy: 'lastactivity', max: 1000 });
    const mine = [busiest, quiet, recent, old].map((r) => r.id);
    t.same(
      all.items.map((r) => r.id).filter((id) => mine.includes(id)),
      mine,
      'most recently active first: the bot replied, then created quiet, then 2 and 30 minutes ago',
    );
    const byId = new Map(all.items.map((r) => [r.id, r]));
    t.equal(byId.get(old.id)?.lastActivity, new Date(now - 30 * MINUTE).toISOString(), 'lastActivity: the newest message');
    t.equal(byId.get(old.id)?.created, new Date(now - 30 * MINUTE).toISOString(), 'a room is never younger than its history');
    t.equal(byId.get(quiet.id)?.lastActivity, quiet.created, 'no message yet: lastActivity is its creation');
    t.ok(Date.parse(byId.get(busiest.id)?.lastActivity ?? '') >= now, "the bot's reply is the room's last activity");

    const first = await list.rooms({ sortBy: 'lastactivity', max: 2 });
    t.equal(first.items.length, 2, 'max');
    t.ok(first.hasNext(), 'a Link to the next page');
    const second = await first.next();
    t.same(
      second.items.map((r) => r.id),
      all.items.slice(2, 4).map((r) => r.id),
      'the Link leads to the next two',
    );

    const canary = sim.addIdentity({ email: 'lister@webex.bot' });
    const itsOwn = sim.directRoom(canary.person.email);
    const itsRooms = (await (await fetch(`${sim.hydraUrl}/rooms`, { headers: auth(canary.token) })).json()) as { items: ListedRoom[] };
    t.same(
      itsRooms.items.map((r) => r.id),
      [itsOwn.id],
      "only the caller's own spaces",
    );
    const status = async (query: string) => (await fetch(`${sim.hydraUrl}/rooms?${query}`, { headers: auth(sim.botToken) })).status;
    t.equal(await status('max=1000'), 200);
    t.equal(await status('max=1001'), 400, 'max up to 1000');
    t.equal(await status('max=0'), 400);
    t.equal(await status('sortBy=toString'), 400, 'sortBy: id, lastactivity or created');
  });

  t.test('1:1 space: 150 messages, newest first, paged with beforeMessage', async (t) => {
    const room = sim.directRoom('chatty@example.com');
    const sent = history(sim, room, 150, { from: 'chatty@example.com' });
    const { ids, calls } = await everyPage({ roomId: room.id, max: 50 });
    t.same(ids, idsOf(sent).reverse(), 'every message once, newest first');
    t.equal(calls, 3);
    const [newest] = (await list.messages({ roomId: room.id, max: 1 })).items;
    t.match(newest, { roomId: room.id, roomType: 'direct', personEmail: 'chatty@example.com', text: 'message 150' });
    t.ok(newest?.personId && newest.created, 'personId, created');

    const before = (await list.messages({ roomId: room.id, before: sent[50]?.created, max: 1000 })).items;
    t.same(
      before.map((m) => m.id),
      idsOf(sent.slice(0, 50)).reverse(),
      '`before` a time: only older messages',
    );
    t.equal((await failure(list.messages({ roomId: room.id, max: 1001 })))?.statusCode, 400, 'max up to 1000');
  });

  t.test('group space: 120 mentions among other messages, only with mentionedPeople=me, at most 100 a page', async (t) => {
    const room = sim.groupRoom('incident', ['ann@example.com', 'ben@example.com']);
    const mentions = history(sim, room, 120, { from: 'ann@example.com' });
    history(sim, room, 30, { from: 'ben@example.com', mentionBot: false });
    const { ids, calls } = await everyPage({ roomId: room.id, mentionedPeople: 'me', max: 50 });
    t.same(ids, idsOf(mentions).reverse(), 'every mention once, newest first; nothing else');
    t.equal(calls, 3);
    const [newest] = (await list.messages({ roomId: room.id, mentionedPeople: 'me', max: 1 })).items;
    t.same(newest?.mentionedPeople, [sim.bot.id], 'mentionedPeople');
    t.equal(
      (await list.messages({ roomId: room.id, mentionedPeople: sim.bot.id, max: 100 })).items.length,
      100,
      'its own id works as `me`',
    );

    const forbidden = await failure(list.messages({ roomId: room.id }));
    t.equal(forbidden?.statusCode, 403, 'no mentionedPeople: 403');
    t.match(forbidden?.body?.message, /Bots can only list messages .*mention them/);
    t.equal((await failure(list.messages({ roomId: room.id, mentionedPeople: 'me', max: 101 })))?.statusCode, 400, 'max over 100: 400');
  });

  t.test('the Link header drops mentionedPeople, as Webex’s: following it in a group space gets 403', async (t) => {
    const group = sim.groupRoom('linked', ['cat@example.com']);
    history(sim, group, 3, { from: 'cat@example.com' });
    const res = await fetch(`${sim.hydraUrl}/messages?${new URLSearchParams({ roomId: group.id, mentionedPeople: 'me', max: '2' })}`, {
      headers: auth(sim.botToken),
    });
    const link = res.headers.get('link');
    t.match(link, /^<http:\/\/[^>]+\/v1\/messages\?[^>]*beforeMessage=[^>]+>; rel="next"$/, 'a next link');
    t.notMatch(link, /mentionedPeople/, 'without mentionedPeople');
    const page = await list.messages({ roomId: group.id, mentionedPeople: 'me', max: 2 });
    t.equal((await failure(page.next()))?.statusCode, 403, 'following it: 403');

    const direct = sim.directRoom('dan@example.com');
    const sent = history(sim, direct, 3, { from: 'dan@example.com' });
    const first = await list.messages({ roomId: direct.id, max: 2 });
    t.same(
      (await first.next()).items.map((m) => m.id),
      [sent[0]?.id],
      'in a 1:1 space it leads to the rest',
    );
    t.equal(
      (await fetch(`${sim.hydraUrl}/messages?roomId=${direct.id}&max=3`, { headers: auth(sim.botToken) })).headers.get('link'),
      null,
      'no Link when nothing remains',
    );
  });

  t.test('429 with Retry-After in the middle of a paging; the retry gets the same page', async (t) => {
    const room = sim.directRoom('eve@example.com');
    const sent = idsOf(history(sim, room, 5, { from: 'eve@example.com' })).reverse();
    const first = await list.messages({ roomId: room.id, max: 2 });
    sim.faults.failRest({ path: '^/v1/messages$', method: 'GET', status: 429, retryAfterSec: 2, count: 1 });
    const next = { roomId: room.id, max: 2, beforeMessage: first.items[1]?.id };
    const refused = await failure(list.messages(next));
    t.equal(refused?.statusCode, 429);
    t.equal(refused?.headers?.['retry-after'], '2');
    t.same(
      (await list.messages(next)).items.map((m) => m.id),
      sent.slice(2, 4),
    );
    sim.faults.failRest({ path: '^/v1/rooms/?$', method: 'GET', status: 429, retryAfterSec: 1, count: 1 });
    t.equal((await failure(list.rooms({ sortBy: 'lastactivity' })))?.statusCode, 429, 'rooms too');
  });

  t.test('the rest of the rules: roomId required, rooms the bot is not in, beforeMessage from elsewhere', async (t) => {
    const get = async (query: Record<string, string>, token = sim.botToken) =>
      (await fetch(`${sim.hydraUrl}/messages?${new URLSearchParams(query)}`, { headers: auth(token) })).status;
    const room = sim.directRoom('fay@example.com');
    const elsewhere = sim.postMessage({ from: 'gus@example.com', roomId: sim.directRoom('gus@example.com').id, text: 'x' });
    t.equal(await get({}), 400, 'roomId required');
    t.equal(await get({ roomId: room.id, beforeMessage: elsewhere.id }), 404, 'beforeMessage of another room');
    t.equal(await get({ roomId: room.id, before: 'yesterday' }), 400, 'before must be a time');
    const canary = sim.addIdentity({ email: 'canary@webex.bot' });
    t.equal(await get({ roomId: room.id }, canary.token), 404, 'not a room of the caller');
    t.equal(await get({ roomId: sim.directRoom(canary.person.email).id }, canary.token), 200, 'its own 1:1 space');
  });

  t.test('history written with `at` is listed but never delivered, nor counted as sent by the bot', async (t) => {
    const room = sim.directRoom('hal@example.com');
    const at = Date.now() - 5 * MINUTE;
    const old = sim.postMessage({ from: 'hal@example.com', roomId: room.id, text: 'while you were away', at });
    const mine = sim.postMessage({ from: sim.bot.email, roomId: room.id, text: 'an old reply', at: at + 1 });
    const live = sim.postMessage({ from: 'hal@example.com', roomId: room.id, text: 'now' });
    // One socket delivers in order: once the live message is in, the history would have been too.
    await eventually('the live message', () => bot.created.some((e) => e.data.id === live.id));
    t.notOk(
      bot.created.some((e) => e.data.id === old.id || e.data.id === mine.id),
      'history never delivered',
    );
    t.notOk(
      sim.botMessages().some((m) => m.id === mine.id),
      'nor among what the bot sent',
    );
    t.equal(old.created, new Date(at).toISOString());
    t.same(
      (await list.messages({ roomId: room.id })).items.map((m) => m.id),
      [live.id, mine.id, old.id],
    );
    t.throws(() => sim.postMessage({ from: 'hal@example.com', roomId: room.id, text: 'later', at: Date.now() + MINUTE }), /past time/);
    const viaControl = await fetch(`${sim.controlUrl}/messages`, {
      method: 'POST',
      body: JSON.stringify({ from: 'hal@example.com', roomId: room.id, text: 'via control', at }),
    });
    t.equal(((await viaControl.json()) as { created: string }).created, new Date(at).toISOString(), 'also through the control API');
  });
});

/** `n` messages written as history, a minute apart, ending a minute ago; oldest first. */
function history(sim: Simulator, room: SimRoom, n: number, m: { from: string; mentionBot?: boolean }): SimMessage[] {
  const end = Date.now() - MINUTE;
  return Array.from({ length: n }, (_, i) =>
    sim.postMessage({ ...m, roomId: room.id, text: `message ${i + 1}`, at: end - (n - 1 - i) * MINUTE }),
  );
}

function idsOf(messages: SimMessage[]): string[] {
  return messages.map((m) => m.id);
}

function auth(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
