import t from 'tap';
import { Supervisor, DEFAULT_TIMINGS, type SupervisorDeps, type SupervisorTimings } from '../../src/connection/supervisor.js';
import { SeenActivities } from '../../src/connection/seen-activities.js';
import { Backoff } from '../../bench/backoff.js';
import type { CloseInfo, IncomingActivity, LinkConnection, WebexLink } from '../../src/webex/types.js';
import { captureLog } from '../kit/log-capture.js';
import { sleep } from '../kit/wait.js';

// Pure state-machine behaviour with a scripted link; the real SDK paths are in test/connection/.

class ScriptedConnection implements LinkConnection {
  closeListeners: Array<(i: CloseInfo) => void> = [];
  activityListeners: Array<(a: IncomingActivity) => void> = [];
  closed = false;
  constructor(readonly id: string) {}
  lastHeardAt = () => Date.now();
  onActivity(l: (a: IncomingActivity) => void) {
    this.activityListeners.push(l);
  }
  onClose(l: (i: CloseInfo) => void) {
    this.closeListeners.push(l);
  }
  onRetiring() {}
  async close() {
    this.closed = true;
  }
  deliver(a: IncomingActivity) {
    for (const l of this.activityListeners) l(a);
  }
}

function scriptedLink(
  connect: (n: number) => Promise<LinkConnection>,
  start: () => Promise<void> = async () => undefined,
): WebexLink & { renewals: string[] } {
  let n = 0;
  const renewals: string[] = [];
  return {
    renewals,
    start: async () => (await start(), { id: 'bot', displayName: 'Toodles', emails: [] }),
    connect: () => connect(++n),
    renew: (reason) => void renewals.push(reason),
    rebuild: (reason) => void renewals.push(`rebuild: ${reason}`),
    shutdown: async () => undefined,
    getMessage: () => Promise.reject(new Error('unused')),
    getCardAction: () => Promise.reject(new Error('unused')),
    send: () => Promise.reject(new Error('unused')),
    deleteMessage: () => Promise.reject(new Error('unused')),
    getPerson: () => Promise.reject(new Error('unused')),
  };
}

const timings: SupervisorTimings = {
  ...DEFAULT_TIMINGS,
  reconnectIntervalMs: 600_000,
  drainTimeoutMs: 200,
  startTimeoutMs: 300,
  connectTimeoutMs: 300,
  closeTimeoutMs: 100,
  tickMs: 20,
  watchdogGraceMs: 200,
};

/** A supervisor over a scripted link with test timings; `overrides` replace any dependency. */
function supervise(link: WebexLink, overrides: Partial<SupervisorDeps> = {}) {
  const log = captureLog();
  const sup = new Supervisor({
    link,
    log: log.logger,
    seen: new SeenActivities({ ttlMs: 60_000, maxEntries: 10 }),
    handle: async () => undefined,
    timings,
    backoff: new Backoff({ baseMs: 50, capMs: 50, stableResetMs: 1_000 }),
    ...overrides,
  });
  const run = sup.run();
  return {
    sup,
    log,
    stop: async () => {
      sup.stop('test');
      return run;
    },
  };
}

t.test('during a Webex outage the watchdog keeps being fed while the supervisor backs off patiently', async (t) => {
  let pings = 0;
  const link = scriptedLink(() => Promise.reject(new Error('503 from Webex')));
  const { log, stop } = supervise(link, { onProgress: () => void pings++ });
  await sleep(1_000);
  t.ok(pings >= 30, `pings kept flowing through the outage (${pings} in 1 s at a 20 ms tick)`);
  const backoffs = log.lines.filter((l) => l.event === 'connection.state' && l.to === 'backing_off').length;
  t.ok(backoffs >= 5, `it kept trying (${backoffs} attempts)`);
  t.notOk(log.lines.some((l) => l.event === 'watchdog.withheld'));
  t.ok(link.renewals.length >= 1, 'repeated failures renew the SDK instance');
  t.same(await stop(), { kind: 'stopped' });
});

t.test('a state that overruns its deadline by the grace stops the watchdog', async (t) => {
  let pings = 0;
  let skewMs = 0;
  // start() never settles and the clock jumps: exactly what a wait escaping its bound looks like.
  const link = scriptedLink(
    () => Promise.reject(new Error('unused')),
    () => new Promise(() => undefined),
  );
  const { log, stop } = supervise(link, {
    timings: { ...timings, startTimeoutMs: 60_000 },
    onProgress: () => void pings++,
    now: () => Date.now() + skewMs,
  });
  await sleep(100);
  t.ok(pings > 0, 'fed while within the deadline');
  skewMs = 60_000 + timings.watchdogGraceMs + 1;
  await log.waitFor('watchdog.withheld');
  const before = pings;
  await sleep(200);
  t.equal(pings, before, 'no WATCHDOG=1 once the state is overdue');
  await stop();
});

t.test('a blocked event loop sends no pings (they come from the loop, not a free-running timer)', async (t) => {
  const pingTimes: number[] = [];
  const conn = new ScriptedConnection('c1');
  const { log, stop } = supervise(
    scriptedLink(async () => conn),
    { onProgress: () => void pingTimes.push(Date.now()) },
  );
  await log.waitFor('connection.state', (l) => l.to === 'online');
  const blockedFrom = Date.now();
  while (Date.now() - blockedFrom < 300); // a handler hogging the CPU
  const blockedTo = Date.now();
  await sleep(60);
  t.notOk(
    pingTimes.some((p) => p > blockedFrom && p < blockedTo),
    'nothing while blocked',
  );
  t.ok(
    pingTimes.some((p) => p >= blockedTo),
    'pings resume with the loop',
  );
  await stop();
});

t.test('a failed graceful connect keeps the working socket and retries later', async (t) => {
  const first = new ScriptedConnection('c1');
  const link = scriptedLink(async (n) => {
    if (n === 1) return first;
    if (n === 2) throw new Error('refused');
    return new ScriptedConnection(`c${n}`);
  });
  const { log, stop } = supervise(link, { timings: { ...timings, reconnectIntervalMs: 100 } });
  await log.waitFor('reconnect.failed');
  t.notOk(first.closed, 'the old socket still serves');
  const done = await log.waitFor('reconnect.done');
  t.equal(done.deafMs, 0);
  await log.waitFor('connection.torn_down', (l) => l.connection === 'c1');
  t.ok(first.closed, 'closed only once the next one was online');
  const order = log.lines.filter((l) => l.event === 'reconnect.done' || (l.event === 'connection.torn_down' && l.connection === 'c1'));
  t.same(
    order.map((l) => l.event),
    ['reconnect.done', 'connection.torn_down'],
    'make before break',
  );
  await stop();
});

t.test("duplicates across sockets are handled once; draining waits for the old socket's handlers", async (t) => {
  const sockets: ScriptedConnection[] = [];
  const link = scriptedLink(async (n) => {
    const c = new ScriptedConnection(`c${n}`);
    sockets.push(c);
    return c;
  });
  const handled: string[] = [];
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  const { log, stop } = supervise(link, {
    handle: async (a) => {
      handled.push(a.id);
      if (a.id === 'slow') await slow;
    },
    timings: { ...timings, reconnectIntervalMs: 150, drainTimeoutMs: 2_000 },
  });
  await log.waitFor('connection.state', (l) => l.to === 'online');
  const activity = (id: string): IncomingActivity => ({ id, kind: 'message', actorId: 'alice', roomId: 'r' });
  sockets[0]!.deliver(activity('slow'));
  await log.waitFor('drain.start');
  sockets[1]!.deliver(activity('slow')); // the same event on the new socket
  sockets[1]!.deliver(activity('next'));
  t.notOk(sockets[0]!.closed, 'the old socket stays open while its handler runs');
  release();
  await log.waitFor('drain.done');
  await log.waitFor('connection.torn_down', (l) => l.connection === 'c1');
  t.same(handled, ['slow', 'next'], 'each id handled once');
  await stop();
});

t.test('if the current socket dies while the graceful connect fails, it is torn down and the cycle backs off', async (t) => {
  const first = new ScriptedConnection('c1');
  const link = scriptedLink(async (n) => {
    if (n === 1) return first;
    if (n === 2) {
      for (const l of first.closeListeners) l({ code: 1006, reason: 'gone' });
      throw new Error('refused');
    }
    return new ScriptedConnection(`c${n}`);
  });
  const { log, stop } = supervise(link, { timings: { ...timings, reconnectIntervalMs: 100 } });
  const done = await log.waitFor('reconnect.done');
  t.ok(first.closed, 'the dead socket went through teardown');
  t.ok(Number(done.deafMs) > 0, 'the gap is reported as deaf time');
  t.ok(log.lines.some((l) => l.event === 'connection.state' && l.from === 'rotating' && l.to === 'backing_off'));
  await stop();
});

t.test(
  'nothing thrown on the activity path reaches the SDK: a failing record or a handler that throws at once is logged, and handling goes on',
  async (t) => {
    const conn = new ScriptedConnection('c1');
    const handled: string[] = [];
    const brokenRecord = new (class extends SeenActivities {
      override firstSighting(): boolean {
        throw new Error('record broken');
      }
    })({ ttlMs: 60_000, maxEntries: 10 });
    const { log, stop } = supervise(
      scriptedLink(async () => conn),
      {
        seen: brokenRecord,
        handle: (a) => {
          handled.push(a.id);
          if (a.id === 'sync-throw') throw new Error('thrown before any promise');
          return Promise.resolve();
        },
      },
    );
    await log.waitFor('connection.state', (l) => l.to === 'online');
    const activity = (id: string): IncomingActivity => ({ id, kind: 'message', actorId: 'alice', roomId: 'r' });
    t.doesNotThrow(() => conn.deliver(activity('sync-throw')), 'the SDK sees no exception');
    t.doesNotThrow(() => conn.deliver(activity('next')));
    t.same(handled, ['sync-throw', 'next'], 'both handled although the record failed');
    t.match(await log.waitFor('activity.record_failed', (l) => l.id === 'next'), { err: 'record broken' });
    t.match(await log.waitFor('activity.failed', (l) => l.id === 'sync-throw'), { err: 'thrown before any promise' });
    await stop();
  },
);
