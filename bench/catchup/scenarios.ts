/**
 * bench:catchup's scenarios, one per target of issue 19. Each runs twice side by side, on bots of
 * their own: catch-up on, and off (the baseline: what would be lost). Times are the simulator's
 * stamps and the daemon's log lines, on this machine's one clock.
 */
import type { NewSimMessage, SimMessage } from '../../src/simulator/index.js';
import { PingTraffic } from '../../test/kit/ping-traffic.js';
import { sleep } from '../../test/kit/wait.js';
import { BenchBot, timeOf, until } from './bot.js';
import { judged, ofAll, secs, shown, type ScenarioResult } from './report.js';

export interface CatchUpBenchOptions {
  /** Between the kill -9 and the restart. */
  downMs: number;
  /** The silent outage. */
  outageMs: number;
  /** Graceful reconnects under traffic. */
  reconnects: number;
}

export const FULL: CatchUpBenchOptions = { downMs: 30_000, outageMs: 60_000, reconnects: 200 };
export const QUICK: CatchUpBenchOptions = { downMs: 5_000, outageMs: 15_000, reconnects: 20 };

const MINUTE = 60_000;
/** How long catch-up on may take to answer before the figures are read anyway (and then MISS). */
const ANSWER_WAIT_MS = 60_000;
/** How long catch-up off is given once it is back: twice the slowest target. It answers nothing sent meanwhile. */
const BASELINE_WAIT_MS = 10_000;
/** After the answers: time for a second answer to any of them to show. */
const SETTLE_MS = 2_000;

/** Runs `measure` with catch-up on and off side by side, each on a bot of its own. */
async function sideBySide<T>(measure: (bot: BenchBot) => Promise<T>, env?: Record<string, string>): Promise<{ on: T; off: T }> {
  const bots = await Promise.all([BenchBot.create(true, env), BenchBot.create(false, env)]);
  try {
    const [on, off] = await Promise.all([measure(bots[0]), measure(bots[1])]);
    return { on, off };
  } finally {
    await Promise.all(bots.map((b) => b.close()));
  }
}

interface Tally {
  once: number;
  more: number;
  never: number;
  /** When the first answer to any of them came, and the last first answer (ms since epoch; NaN when none). */
  first: number;
  last: number;
}

function tally(bot: BenchBot, messages: SimMessage[]): Tally {
  const answers = messages.map((m) => bot.answers(m));
  const firsts = answers.filter((a) => a.length > 0).map((a) => Math.min(...a));
  return {
    once: answers.filter((a) => a.length === 1).length,
    more: answers.filter((a) => a.length > 1).length,
    never: answers.filter((a) => a.length === 0).length,
    first: firsts.length ? Math.min(...firsts) : NaN,
    last: firsts.length ? Math.max(...firsts) : NaN,
  };
}

/** The figure most scenarios turn on: each of `all` messages answered once, no more, no less. */
function answeredOnce(figure: string, all: number, on: Tally, off: Tally) {
  return judged(figure, ofAll(all, all), ofAll(on.once, all), on.once === all, ofAll(off.once, all));
}

/** Waits until every message is answered (catch-up on) or the baseline's time is up, then for any second answer. */
async function answersIn(bot: BenchBot, expected: SimMessage[]): Promise<void> {
  await until(() => expected.every((m) => bot.answers(m).length > 0), bot.catchUp ? ANSWER_WAIT_MS : BASELINE_WAIT_MS);
  await sleep(SETTLE_MS);
}

/** Posts the messages evenly over `overMs` (the first at once). */
async function spread(bot: BenchBot, messages: NewSimMessage[], overMs: number): Promise<SimMessage[]> {
  const began = Date.now();
  const sent: SimMessage[] = [];
  for (const [i, m] of messages.entries()) {
    await sleep(Math.max(0, began + (i * overMs) / messages.length - Date.now()));
    sent.push(bot.post(m));
  }
  return sent;
}

/** A message the bot is to answer: in a 1:1 space, or mentioning it. */
const forTheBot = (m: SimMessage) => m.roomType === 'direct' || (m.mentionedPeople?.length ?? 0) > 0;

/**
 * People writing to the bot, interleaved: 2 messages in each of 10 1:1 spaces, 2 mentions in each of
 * 5 group spaces and, with `chatter`, one message without a mention in each group space.
 */
function peopleWriting(bot: BenchBot, chatter: boolean): NewSimMessage[] {
  const direct = Array.from({ length: 10 }, (_, i) => ({
    from: `person-${i}@example.com`,
    room: bot.sim.directRoom(`person-${i}@example.com`),
  }));
  const groups = Array.from({ length: 5 }, (_, i) => ({
    from: `member-${i}@example.com`,
    room: bot.sim.groupRoom(`team-${i}`, [`member-${i}@example.com`, `other-${i}@example.com`]),
  }));
  const messages: NewSimMessage[] = [];
  for (const text of ['ping', 'help']) {
    direct.forEach((d, i) => {
      messages.push({ from: d.from, roomId: d.room.id, text });
      const g = groups[i];
      if (!g) return;
      messages.push({ from: g.from, roomId: g.room.id, text: 'ping' });
      if (chatter && text === 'ping') messages.push({ from: g.from, roomId: g.room.id, text: 'lunch?', mentionBot: false });
    });
  }
  return messages;
}

export async function killAndRestart(o: CatchUpBenchOptions): Promise<ScenarioResult> {
  const { on, off } = await sideBySide(async (bot) => {
    await bot.start();
    await bot.markWritten();
    await bot.kill9();
    const killedAt = Date.now();
    const sent = await spread(bot, peopleWriting(bot, true), o.downMs);
    await sleep(Math.max(0, killedAt + o.downMs - Date.now()));
    const listings = bot.listingCalls();
    const readyAt = await bot.start();
    const answerable = sent.filter(forTheBot);
    await answersIn(bot, answerable);
    return {
      readyAt,
      downMs: readyAt - killedAt,
      answered: tally(bot, answerable),
      unmentioned: tally(
        bot,
        sent.filter((m) => !forTheBot(m)),
      ),
      listings: bot.listingCalls() - listings,
    };
  });
  const after = (r: typeof on, at: number) => secs(at - r.readyAt);
  const all = (r: typeof on) => r.answered.never === 0;
  return {
    title: `kill -9, ${o.downMs / 1000} s down, then a restart (a spawned daemon): meanwhile 20 messages in 1:1 spaces, 10 mentions and 5 messages without one in group spaces`,
    rows: [
      answeredOnce('answered exactly once', 30, on.answered, off.answered),
      judged('answered twice or more', '0', String(on.answered.more), on.answered.more === 0, String(off.answered.more)),
      judged(
        'unmentioned answered',
        '0 of 5',
        ofAll(5 - on.unmentioned.never, 5),
        on.unmentioned.never === 5,
        ofAll(5 - off.unmentioned.never, 5),
      ),
      judged(
        'first answer after READY',
        '<= 2.0 s',
        after(on, on.answered.first),
        on.answered.first - on.readyAt <= 2_000,
        after(off, off.answered.first),
      ),
      judged(
        'last answer after READY',
        '<= 5.0 s',
        after(on, on.answered.last),
        all(on) && on.answered.last - on.readyAt <= 5_000,
        after(off, off.answered.last),
      ),
      shown('down (the kill to READY)', secs(on.downMs), secs(off.downMs)),
      shown('listing requests after the restart', String(on.listings), String(off.listings)),
    ],
  };
}

export async function silentOutage(o: CatchUpBenchOptions): Promise<ScenarioResult> {
  const { on, off } = await sideBySide(async (bot) => {
    await bot.start();
    const began = Date.now();
    // Open sockets fall silent (no pongs, events dropped) and new upgrades hang: a zombie Webex.
    bot.sim.faults.zombie(true);
    const sent = await spread(bot, peopleWriting(bot, false), o.outageMs);
    await sleep(Math.max(0, began + o.outageMs - Date.now()));
    const liftedAt = Date.now();
    bot.sim.faults.zombie(false);
    await until(() => bot.events('reconnect.done', liftedAt).length > 0, ANSWER_WAIT_MS);
    const backAt = timeOf(bot.events('reconnect.done', liftedAt)[0]);
    await answersIn(bot, sent);
    return { liftedAt, backAt, noticedMs: timeOf(bot.events('reconnect.start', began)[0]) - began, answered: tally(bot, sent) };
  });
  const after = (r: typeof on, at: number) => secs(at - r.backAt);
  return {
    title: `a ${o.outageMs / 1000} s silent outage (sockets open, events dropped, new sockets hang): meanwhile 20 messages in 1:1 spaces and 10 group mentions`,
    rows: [
      answeredOnce('answered exactly once', 30, on.answered, off.answered),
      judged(
        'last answer after the bot is back',
        '<= 3.0 s',
        after(on, on.answered.last),
        on.answered.never === 0 && on.answered.last - on.backAt <= 3_000,
        after(off, off.answered.last),
      ),
      shown('first answer after the bot is back', after(on, on.answered.first), after(off, off.answered.first)),
      shown('back (online) after the outage ended', secs(on.backAt - on.liftedAt), secs(off.backAt - off.liftedAt)),
      shown('silence noticed after', secs(on.noticedMs), secs(off.noticedMs)),
    ],
  };
}

export async function gracefulUnderTraffic(o: CatchUpBenchOptions): Promise<ScenarioResult> {
  const { on, off } = await sideBySide(
    async (bot) => {
      await bot.start();
      const traffic = new PingTraffic(bot.sim);
      traffic.start(10);
      await until(() => bot.events('reconnect.done').length >= o.reconnects, o.reconnects * 2_000, 500);
      traffic.stop();
      await traffic.allAnswered(BASELINE_WAIT_MS);
      await sleep(SETTLE_MS);
      const reconnects = bot.events('reconnect.done');
      return {
        graceful: reconnects.filter((l) => l.deafMs === 0).length,
        other: reconnects.filter((l) => l.deafMs !== 0).length,
        rounds: bot.events('catchup.start').length,
        listings: bot.listingCalls(),
        traffic: traffic.tally(),
      };
    },
    { TOODLES_RECONNECT_INTERVAL_S: '0.25', TOODLES_DRAIN_TIMEOUT_S: '0.1' },
  );
  const reconnects = (r: typeof on) => `${r.graceful}${r.other ? ` (and ${r.other} not graceful)` : ''}`;
  const once = (r: typeof on) => ofAll(r.traffic.once, r.traffic.sent);
  return {
    title: `${o.reconnects} graceful reconnects (every 0.25 s) under traffic (10 pings/s)`,
    rows: [
      judged(
        'graceful reconnects',
        `>= ${o.reconnects}, all`,
        reconnects(on),
        on.graceful >= o.reconnects && on.other === 0,
        reconnects(off),
      ),
      judged('listing calls', '0', String(on.listings), on.listings === 0, String(off.listings)),
      shown('catch-up rounds', String(on.rounds), String(off.rounds)),
      judged('pings answered exactly once', 'all', once(on), on.traffic.once === on.traffic.sent, once(off)),
    ],
  };
}

export async function manySpaces(): Promise<ScenarioResult> {
  const idleSpaces = 1_995;
  const { on, off } = await sideBySide(async (bot) => {
    await bot.start();
    await bot.markWritten();
    await bot.stop();
    bot.markHeard(10 * MINUTE);
    const now = Date.now();
    const idle = Array.from({ length: idleSpaces }, (_, i) => {
      const from = `idle-${i}@example.com`;
      return bot.post({ from, roomId: bot.sim.directRoom(from).id, text: 'ping', at: now - 20 * MINUTE - i * 1_000 });
    });
    const active = Array.from({ length: 5 }, (_, i) => {
      const from = `active-${i}@example.com`;
      const roomId = bot.sim.directRoom(from).id;
      const at = now - (i + 1) * MINUTE;
      return [bot.post({ from, roomId, text: 'ping', at }), bot.post({ from, roomId, text: 'help', at: at + 20_000 })];
    }).flat();
    const listings = bot.listingCalls();
    await bot.start();
    await answersIn(bot, active);
    const round = bot.events('catchup.done')[0];
    return {
      requests: bot.listingCalls() - listings,
      active: tally(bot, active),
      idleAnswered: idle.length - tally(bot, idle).never,
      roundMs: round ? Number(round.durationMs) : NaN,
    };
  });
  return {
    title: `a bot in ${idleSpaces + 5} spaces, 5 of them active in a 10-minute gap (a restart whose mark is 10 minutes old)`,
    rows: [
      judged('requests for the round', '<= 10', String(on.requests), on.requests <= 10, String(off.requests)),
      answeredOnce('messages in the 5 active spaces answered once', 10, on.active, off.active),
      judged(
        'messages in idle spaces answered',
        ofAll(0, idleSpaces),
        ofAll(on.idleAnswered, idleSpaces),
        on.idleAnswered === 0,
        ofAll(off.idleAnswered, idleSpaces),
      ),
      shown('the round took', secs(on.roundMs), secs(off.roundMs)),
    ],
  };
}

export async function manyMissed(): Promise<ScenarioResult> {
  const { on, off } = await sideBySide(async (bot) => {
    await bot.start();
    await bot.markWritten();
    await bot.kill9();
    const alice = bot.sim.directRoom('alice@example.com');
    const crowd = bot.sim.groupRoom('crowd', ['carol@example.com', 'dan@example.com', 'erin@example.com']);
    const direct = Array.from({ length: 150 }, () => bot.post({ from: 'alice@example.com', roomId: alice.id, text: 'ping' }));
    const mentions = Array.from({ length: 120 }, (_, i) =>
      bot.post({ from: crowd.memberEmails[i % 3] ?? 'carol@example.com', roomId: crowd.id, text: 'ping' }),
    );
    const listings = bot.listingCalls();
    const readyAt = await bot.start();
    await answersIn(bot, [...direct, ...mentions]);
    const all = tally(bot, [...direct, ...mentions]);
    return { readyAt, direct: tally(bot, direct), mentions: tally(bot, mentions), all, listings: bot.listingCalls() - listings };
  });
  return {
    title: '150 missed messages in one 1:1 space and 120 missed mentions in one group space (a kill -9, then a restart)',
    rows: [
      answeredOnce('1:1 space: answered exactly once', 150, on.direct, off.direct),
      answeredOnce('group space: answered exactly once', 120, on.mentions, off.mentions),
      judged('answered twice or more', '0', String(on.all.more), on.all.more === 0, String(off.all.more)),
      shown('listing requests', String(on.listings), String(off.listings)),
      shown('last answer after READY', secs(on.all.last - on.readyAt), secs(off.all.last - off.readyAt)),
    ],
  };
}

export async function firstStart(): Promise<ScenarioResult> {
  const { on, off } = await sideBySide(async (bot) => {
    const now = Date.now();
    const history = Array.from({ length: 50 }, (_, i) => {
      const from = `old-${i}@example.com`;
      const room = i % 2 ? bot.sim.directRoom(from) : bot.sim.groupRoom(`old-${i}`, [from]);
      // One sent minutes ago, one just before the bot ever ran.
      return [
        bot.post({ from, roomId: room.id, text: 'ping', at: now - (i + 1) * MINUTE }),
        bot.post({ from, roomId: room.id, text: 'ping' }),
      ];
    }).flat();
    await bot.start();
    const live = bot.post({ from: 'new@example.com', roomId: bot.sim.directRoom('new@example.com').id, text: 'ping' });
    const liveAnswered = await until(() => bot.answers(live).length > 0, BASELINE_WAIT_MS);
    // Time for a round to start, had the bot wrongly owed one.
    await sleep(SETTLE_MS);
    return { answered: history.length - tally(bot, history).never, listings: bot.listingCalls(), liveAnswered };
  });
  return {
    title: 'a first start on an empty state directory, with history in 50 spaces',
    rows: [
      judged('history answered', '0 of 100', ofAll(on.answered, 100), on.answered === 0, ofAll(off.answered, 100)),
      judged('listing calls', '0', String(on.listings), on.listings === 0, String(off.listings)),
      shown('a live message answered', on.liveAnswered ? 'yes' : 'no', off.liveAnswered ? 'yes' : 'no'),
    ],
  };
}
