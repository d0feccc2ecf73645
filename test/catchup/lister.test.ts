import t from 'tap';
import { DEFAULT_LIMITS, listWindow, type ListLimits, type SpaceFindings } from '../../src/catchup/lister.js';
import type { Test } from 'tap';
import { startSimulator, type SimMessage, type SimRoom } from '../../src/simulator/index.js';
import { SdkWebexLink } from '../../src/webex/link.js';
import { captureLog } from '../kit/log-capture.js';
import { exitAfterTests } from '../kit/sim-bot.js';

const MINUTE = 60_000;
const OVERLAP = 10_000;
exitAfterTests(t);

/** A simulator of its own, and toodles' own link (the real SDK) on it. */
async function setup(t: Test) {
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  const { logger, lines } = captureLog();
  const link = new SdkWebexLink({ sdk: { token: sim.botToken, u2cUrl: sim.u2cUrl, hydraUrl: sim.hydraUrl }, log: logger });
  t.teardown(() => link.shutdown(AbortSignal.timeout(5_000)));
  await link.start(AbortSignal.timeout(15_000));

  /** Lists since `from`, as one round does: the totals, the findings by space, the requests the simulator saw. */
  const list = async (from: number, limits: Partial<ListLimits> = {}) => {
    const since = sim.traffic().length;
    const found = new Map<string, SpaceFindings>();
    const totals = await listWindow(
      link,
      { from, botId: sim.bot.id },
      { limits: { ...DEFAULT_LIMITS, ...limits }, log: logger, signal: AbortSignal.timeout(30_000), found: (f) => found.set(f.room.id, f) },
    );
    const requests = sim
      .traffic()
      .slice(since)
      .filter((l) => l.kind === 'http' && /^\/v1\/(rooms|messages)\b/.test(String(l.path)))
      .map((l) => new URL(String(l.path), sim.hydraUrl));
    return { totals, found, requests, texts: (room: SimRoom) => found.get(room.id)?.messages.map((m) => m.text) ?? [] };
  };

  /** `n` messages a minute apart, the last `endAgo` ms ago. */
  const history = (room: SimRoom, n: number, m: { from: string; mentionBot?: boolean; text?: string }, endAgo = MINUTE): SimMessage[] => {
    const end = Date.now() - endAgo;
    return Array.from({ length: n }, (_, i) =>
      sim.postMessage({ ...m, roomId: room.id, text: `${m.text ?? 'message'} ${i + 1}`, at: end - (n - 1 - i) * MINUTE }),
    );
  };
  return { sim, lines, list, history };
}

t.test(
  'a window: only the spaces active in it are listed; 1:1 whole, group mentions only, oldest first, never the bot’s own',
  async (t) => {
    const { sim, list, history } = await setup(t);
    for (let i = 0; i < 20; i++) history(sim.directRoom(`quiet-${i}@example.com`), 1, { from: `quiet-${i}@example.com` }, 3 * 60 * MINUTE);
    const from = Date.now() - 10 * MINUTE;
    const alice = sim.directRoom('alice-w@example.com');
    history(alice, 2, { from: 'alice-w@example.com', text: 'before' }, 15 * MINUTE);
    history(alice, 3, { from: 'alice-w@example.com', text: 'in' }, 2 * MINUTE);
    history(alice, 1, { from: sim.bot.email, text: 'my own' }, MINUTE);
    const team = sim.groupRoom('team-w', ['bob-w@example.com', 'carol-w@example.com']);
    history(team, 2, { from: 'bob-w@example.com', text: 'mention' }, 3 * MINUTE);
    history(team, 4, { from: 'carol-w@example.com', text: 'chatter', mentionBot: false }, 2 * MINUTE);

    const { totals, requests, texts } = await list(from);
    t.same(texts(alice), ['in 1', 'in 2', 'in 3'], '1:1: every message in the window, oldest first, not the bot’s own');
    t.same(texts(team), ['Toodles mention 1', 'Toodles mention 2'], 'group: only the mentions');
    t.match(totals, { spaces: 2, requests: 3, leftOver: 0, failedSpaces: 0 });
    t.equal(requests.length, 3, 'one request for the spaces, one per active space');
    const rooms = requests.find((u) => u.pathname.endsWith('/rooms') || u.pathname.endsWith('/rooms/'));
    t.equal(rooms?.searchParams.get('sortBy'), 'lastactivity');
    const group = requests.find((u) => u.searchParams.get('roomId') === team.id);
    t.equal(group?.searchParams.get('mentionedPeople'), 'me', 'a group space is asked for mentions (403 without)');
  },
);

t.test('more than a page: 150 in a 1:1 space and 120 mentions in a group space, paged with beforeMessage, none twice', async (t) => {
  const { sim, list, history } = await setup(t);
  const from = Date.now() - 4 * 60 * MINUTE;
  const chatty = sim.directRoom('chatty-p@example.com');
  const direct = history(chatty, 150, { from: 'chatty-p@example.com' });
  const crowd = sim.groupRoom('crowd-p', ['dan-p@example.com', 'eve-p@example.com']);
  const mentions = history(crowd, 120, { from: 'dan-p@example.com' }, 90 * 1000);
  history(crowd, 130, { from: 'eve-p@example.com', mentionBot: false }, 30 * 1000);

  const { totals, found, requests } = await list(from);
  t.same(
    found.get(chatty.id)?.messages.map((m) => m.id),
    direct.map((m) => m.id),
    'the 1:1 space whole, oldest first',
  );
  t.same(
    found.get(crowd.id)?.messages.map((m) => m.id),
    mentions.map((m) => m.id),
    'every mention in the group space, oldest first',
  );
  t.match(totals, { spaces: 2, leftOver: 0 });
  const pages = (room: SimRoom) => requests.filter((u) => u.searchParams.get('roomId') === room.id);
  t.equal(pages(chatty).length, 2);
  t.equal(pages(crowd).length, 2);
  for (const u of pages(crowd)) {
    t.equal(u.searchParams.get('mentionedPeople'), 'me', 'every group page keeps mentionedPeople (the Link would drop it)');
    t.ok(Number(u.searchParams.get('max')) <= 100, 'at most 100 with mentionedPeople (400 above)');
  }
  t.ok(pages(crowd)[1]?.searchParams.get('beforeMessage'), 'the next page by beforeMessage');
});

t.test('a bot in 2,000 spaces, 5 of them active in a 10-minute gap: 6 requests', async (t) => {
  const { sim, list, history } = await setup(t);
  for (let i = 0; i < 1_995; i++)
    history(sim.directRoom(`idle-${i}@example.com`), 1, { from: `idle-${i}@example.com` }, 20 * MINUTE + i * 1000);
  const active = Array.from({ length: 5 }, (_, i) => sim.directRoom(`active-${i}@example.com`));
  active.forEach((room, i) => history(room, 2, { from: `active-${i}@example.com` }, (i + 1) * MINUTE));
  const { totals, found } = await list(Date.now() - 10 * MINUTE - OVERLAP);
  t.match(totals, { spaces: 5, requests: 6, leftOver: 0 });
  t.equal(
    [...found.values()].reduce((n, f) => n + f.messages.length, 0),
    10,
  );
});

t.test('the caps: spaces and messages beyond them are counted as left over, not listed', async (t) => {
  const { sim, list, history } = await setup(t);
  const from = Date.now() - 30 * MINUTE;
  const rooms = Array.from({ length: 4 }, (_, i) => sim.directRoom(`capped-${i}@example.com`));
  rooms.forEach((room, i) => history(room, 3, { from: `capped-${i}@example.com` }, (i + 1) * 1000));
  const spaces = await list(from, { spaces: 2 });
  t.match(spaces.totals, { spaces: 2, leftOver: 2 }, 'two spaces over the space cap');

  const messages = await list(from, { spaces: 4, messages: 7, inFlight: 1 });
  t.equal(
    [...messages.found.values()].reduce((n, f) => n + f.messages.length, 0),
    7,
    'seven messages taken',
  );
  t.equal(messages.totals.leftOver, 2, 'the space cut short and the one never reached');
});

t.test('a 429 in the middle of a round: Retry-After obeyed, nothing lost', async (t) => {
  const { sim, lines, list, history } = await setup(t);
  const from = Date.now() - 30 * MINUTE;
  const rooms = Array.from({ length: 3 }, (_, i) => sim.directRoom(`busy-${i}@example.com`));
  rooms.forEach((room, i) => history(room, 2, { from: `busy-${i}@example.com` }, (i + 1) * 1000));
  sim.faults.failRest({ path: '/v1/messages', status: 429, retryAfterSec: 1, count: 1 });
  const { found, totals } = await list(from);
  for (const room of rooms) t.equal(found.get(room.id)?.messages.length, 2, 'every message of every space');
  t.equal(totals.failedSpaces, 0);
  t.match(
    lines.find((l) => l.event === 'webex.rest_retry' && l.status === 429),
    { waitMs: 1_000 },
    'waited as told',
  );
});

t.test('a space whose listing Webex refuses is counted and logged; the round goes on', async (t) => {
  const { sim, lines, list, history } = await setup(t);
  const from = Date.now() - 30 * MINUTE;
  const other = sim.directRoom('fine@example.com');
  history(other, 1, { from: 'fine@example.com' }, 2 * MINUTE);
  const room = sim.directRoom('refused@example.com');
  history(room, 1, { from: 'refused@example.com' }, MINUTE);
  sim.faults.failRest({ path: '/v1/messages', status: 403, count: 1 });
  const { totals, found } = await list(from, { inFlight: 1 });
  t.match(totals, { failedSpaces: 1, spaces: 1 });
  t.same([...found.keys()], [other.id], 'the next space is listed all the same');
  t.match(
    lines.find((l) => l.event === 'catchup.space_failed'),
    { room: room.id },
  );
});
