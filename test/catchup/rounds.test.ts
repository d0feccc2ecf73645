import t from 'tap';
import { CatchUp, type CatchUpSummary } from '../../src/catchup/catchup.js';
import { Gaps } from '../../src/catchup/gaps.js';
import { HeardMark } from '../../src/catchup/mark.js';
import { SeenActivities } from '../../src/connection/seen-activities.js';
import type { SupervisorStatus } from '../../src/connection/supervisor.js';
import type { IncomingActivity, MessagePage, RoomSummary, WebexHistory } from '../../src/webex/types.js';
import { captureLog } from '../kit/log-capture.js';
import { eventually } from '../kit/wait.js';

const BOT = { id: 'bot', displayName: 'Toodles', emails: ['toodles@webex.bot'] };
const ONLINE = { state: 'online', since: 0, reconnects: 0 } as SupervisorStatus;

/** The rounds' scheduling on a scripted Webex: `rooms` answers each listRooms call in turn. */
function setup(rooms: () => Promise<RoomSummary[]>, opts: { handle?: (a: IncomingActivity) => Promise<void> } = {}) {
  const { logger, lines, waitFor } = captureLog();
  const mark = new HeardMark({ log: logger });
  const gaps = new Gaps({ mark, maxAgeMs: 3_600_000 });
  const handled: string[] = [];
  const rounds: CatchUpSummary[] = [];
  const history: WebexHistory = {
    listRooms: () => rooms(),
    listMessages: async (q): Promise<MessagePage> => ({
      items: [
        {
          id: `m-${q.roomId}`,
          roomId: q.roomId,
          roomType: 'direct',
          personId: 'p',
          personEmail: 'p@x',
          text: 'ping',
          hasFiles: false,
          created: Date.now() - 1_000,
        },
      ],
      more: false,
    }),
  };
  const catchUp = new CatchUp({
    gaps,
    history,
    seen: new SeenActivities({ ttlMs: 3_600_000, maxEntries: 100 }),
    handle: opts.handle ?? (async (a) => void handled.push(a.id)),
    log: logger,
    bot: () => BOT,
    maxAgeMs: 3_600_000,
    timings: { retryAfterMs: 20, drainTimeoutMs: 200 },
    onRound: (r) => rounds.push(r),
  });
  catchUp.stateChanged(ONLINE);
  return { catchUp, mark, gaps, lines, waitFor, handled, rounds };
}

const room = (id: string): RoomSummary => ({ id, type: 'direct', lastActivity: Date.now() });

t.test('one round at a time: a gap found during a round widens the next', async (t) => {
  let release = () => undefined as void;
  let calls = 0;
  const { catchUp, waitFor, lines, handled, rounds } = setup(async () => {
    calls += 1;
    if (calls === 1) await new Promise<void>((r) => (release = r));
    return [room(`r${calls}`)];
  });
  catchUp.reconnected({ graceful: false, deafMs: 3_000 });
  catchUp.reconnected({ graceful: false, deafMs: 2_000 });
  await eventually('the first round listing', () => calls === 1);
  t.equal(calls, 1, 'no second round while the first runs');
  release();
  await eventually('two rounds done', () => lines.filter((l) => l.event === 'catchup.done').length === 2);
  t.equal(calls, 2, 'the two reconnects made one more round, not two');
  t.match(lines.filter((l) => l.event === 'catchup.start')[1], { why: 'reconnect' });
  t.same(handled, ['m-r1', 'm-r2']);
  await waitFor('catchup.done');
  t.match(
    rounds,
    [
      { outcome: 'done', answered: 1, requests: 2 },
      { outcome: 'done', answered: 1 },
    ],
    'each round told once, as it ended',
  );
  t.same(catchUp.last(), rounds[1], 'the last is the one told last');
});

t.test('a failed round is retried, then given up, and the mark moves on', async (t) => {
  const { catchUp, mark, gaps, lines, rounds } = setup(() => Promise.reject(new Error('rooms: 503')));
  catchUp.reconnected({ graceful: false, deafMs: 3_000 });
  await eventually('given up', () => lines.some((l) => l.event === 'catchup.failed' && l.next === 'none: given up'));
  const failures = lines.filter((l) => l.event === 'catchup.failed');
  t.equal(failures.length, 3);
  t.match(failures[0], { next: 'a retry in 20 ms', err: 'rooms: 503' });
  t.match(catchUp.last(), { outcome: 'failed', err: 'rooms: 503', causes: ['reconnect'] });
  t.same(
    rounds.map((r) => r.outcome),
    ['failed', 'failed', 'failed'],
    'each attempt told once',
  );
  const heardAt = Date.now();
  gaps.heard(heardAt);
  t.equal(mark.current(), heardAt, 'the mark follows the socket again');
});

t.test('at shutdown the round stops and its answers in flight get the drain time, then are abandoned', async (t) => {
  let answering = false;
  const { catchUp, lines } = setup(async () => [room('slow')], {
    handle: () => {
      answering = true;
      return new Promise<void>(() => undefined);
    },
  });
  catchUp.reconnected({ graceful: false, deafMs: 3_000 });
  await eventually('an answer in flight', () => answering);
  // toodles' timers never hold the process open; the daemon's sockets do, this stands in for them.
  const hold = setInterval(() => undefined, 1_000);
  await catchUp.drain();
  clearInterval(hold);
  t.match(
    lines.find((l) => l.event === 'drain.timeout'),
    { what: 'catch-up answers', abandoned: 1 },
  );
  t.match(
    lines.find((l) => l.event === 'catchup.failed'),
    { next: 'the next start' },
  );
  catchUp.reconnected({ graceful: false, deafMs: 3_000 });
  t.equal(lines.filter((l) => l.event === 'catchup.start').length, 1, 'no round after shutdown');
});
