import t from 'tap';
import { renderStatus, statusDocument, type StatusFacts } from '../../src/control/status.js';
import { DaemonStats } from '../../src/stats/stats.js';

t.test('the status screen, with every line filled in', async (t) => {
  let now = Date.parse('2026-11-30T12:00:00Z');
  const stats = new DaemonStats(undefined, () => now);
  stats.reconnected({ graceful: false, reason: 'connection closed (1006 )', durationMs: 812, deafMs: 640 });
  stats.reconnected({ graceful: true, reason: 'scheduled', durationMs: 41, deafMs: 0 });
  stats.activity('message');
  stats.activity('cardAction');
  stats.command('deploy', 30_000, false);
  stats.restRetry(503);
  stats.restRetry(undefined);
  stats.watchdogPing();
  stats.device({ url: 'https://wdm/devices/1', reused: true });
  t.equal(stats.canary({ ok: false, stage: 'no_reply' }), 1);
  t.equal(stats.canary({ ok: false, stage: 'no_reply' }), 2);
  stats.heal('rebuild', 'canary failed 2 times in a row');
  now += 65_000;
  const doc = statusDocument({
    version: '1.2.3',
    startedAt: now - 3_600_000 * 26,
    now,
    connection: {
      state: 'online',
      since: now - 125_000,
      reconnects: 2,
      bot: { id: 'b', displayName: 'Toodles', emails: ['toodles@webex.bot'] },
    },
    stats: stats.snapshot(),
    proxy: 'proxy http://proxy:3128 (from HTTPS_PROXY)',
    catchUp: {
      off: false,
      last: {
        outcome: 'done',
        causes: ['restart', 'new device'],
        from: now - 310_000,
        to: now - 123_000,
        startedAt: now - 122_000,
        durationMs: 412,
        spaces: 3,
        requests: 4,
        found: 6,
        answered: 4,
        alreadyAnswered: 1,
        tooOld: 1,
        leftOver: 0,
        failedSpaces: 0,
      },
    },
  });
  const screen = renderStatus(doc, now);
  t.equal(
    screen,
    [
      `toodles         1.2.3, pid ${process.pid}, up 1d 2h`,
      'connection      online for 2m 5s (as Toodles)',
      'reconnects      1 graceful, 1 after faults',
      'last reconnect  1m 5s ago, graceful (scheduled), took 41 ms, deaf 0 ms',
      'deaf in total   0.6 s',
      'messages        1 handled (last 1m 5s ago), 1 card submits, 1 command failures',
      'last command    deploy, FAILED 1m 5s ago',
      'watchdog        last ping 1m 5s ago',
      'proxy           proxy http://proxy:3128 (from HTTPS_PROXY)',
      'device          registered (refreshed) 1m 5s ago',
      'canary          FAILED at no_reply 1m 5s ago; 2 failures in a row',
      'healing         rebuild 1m 5s ago (canary failed 2 times in a row)',
      'last catch-up   2m 2s ago (restart, new device), a gap of 3m 7s; took 412 ms, 4 requests',
      'caught up       6 found: 4 answered, 1 already answered, 1 too old; 0 spaces left over',
    ].join('\n'),
  );
  t.equal(stats.canary({ ok: true, roundTripMs: 300 }), 0, 'a pass resets the count');
  t.match(
    renderStatus(
      statusDocument({
        version: '1',
        startedAt: now,
        now,
        connection: { state: 'starting', since: now, reconnects: 0 },
        stats: stats.snapshot(),
        proxy: 'x',
        catchUp: { off: false },
      }),
      now,
    ),
    /^canary +ok, round trip 300 ms 0s ago; 0 failures in a row$/m,
  );
});

t.test('with a shared database: instance, peers, claims and the database, on four more lines', async (t) => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  const claims = { won: 12, lost: 30, taken_over: 1, alone: 4, dropped: 0, fenced: 1 };
  const database = {
    health: 'down' as const,
    target: 'db.example:5432/toodles',
    since: now - 90_000,
    lastError: 'connect ECONNREFUSED',
    queries: 99,
  };
  const facts = (instance: string, peers: string[]) => ({
    version: '1',
    startedAt: now,
    now,
    connection: { state: 'online' as const, since: now, reconnects: 0 },
    stats: new DaemonStats(undefined, () => now).snapshot(),
    proxy: 'x',
    catchUp: { off: false },
    cluster: { instance, owner: `${instance}/1-abc`, preferredInstance: 'vm1', state: 'away' as const, peers, claims, database },
  });
  const screen = renderStatus(statusDocument(facts('vm1', ['vm2', 'vm3'])), now);
  t.match(screen, /^instance +vm1 \(away\); preferred instance vm1 \(this one\)$/m);
  t.match(screen, /^peers +vm2, vm3 \(seen in the last 30 s\)$/m);
  t.match(screen, /^claims +12 won, 30 lost, 1 taken over, 4 answered alone, 0 dropped while away, 1 fenced$/m);
  t.match(screen, /^database +down since 1m 30s ago, db\.example:5432\/toodles \(connect ECONNREFUSED\)$/m);
  t.match(renderStatus(statusDocument(facts('vm2', [])), now), /^peers +none seen in the last 30 s$/m);
  t.notMatch(renderStatus(statusDocument({ ...facts('vm1', []), cluster: undefined }), now), /^instance/m, 'no cluster, no cluster lines');
});

t.test('the last catch-up: none yet, off, failed, or cut short by the caps', async (t) => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  const facts = (catchUp: StatusFacts['catchUp']): StatusFacts => ({
    version: '1',
    startedAt: now,
    now,
    connection: { state: 'online', since: now, reconnects: 0 },
    stats: new DaemonStats(undefined, () => now).snapshot(),
    proxy: 'x',
    catchUp,
  });
  const screen = (catchUp: StatusFacts['catchUp']) => renderStatus(statusDocument(facts(catchUp)), now);
  t.match(screen({ off: false }), /^last catch-up +none yet$/m);
  t.match(screen({ off: true }), /^last catch-up +off \(TOODLES_CATCHUP_MAX_AGE_S=0\)$/m);
  const round = { causes: ['reconnect' as const], from: now - 12_300, to: now - 10_000, startedAt: now - 10_000 };
  const failed = screen({ off: false, last: { ...round, outcome: 'failed', durationMs: 300_000, err: 'rooms: 503' } });
  t.match(failed, /^last catch-up +10s ago \(reconnect\), a gap of 2\.3 s; FAILED after 300000 ms: rooms: 503$/m);
  t.notMatch(failed, /^caught up/m, 'a failed round found nothing to count');
  const capped = screen({
    off: false,
    last: {
      ...round,
      outcome: 'done',
      durationMs: 9_000,
      spaces: 50,
      requests: 61,
      found: 500,
      answered: 500,
      alreadyAnswered: 0,
      tooOld: 0,
      leftOver: 7,
      failedSpaces: 1,
    },
  });
  t.match(capped, /^caught up +500 found: 500 answered, 0 already answered, 0 too old; 7 spaces left over, 1 could not be listed$/m);
  const json = statusDocument(facts({ off: false, last: { ...round, outcome: 'done', durationMs: 5 } }));
  t.match(
    json.catchUp.last,
    { from: '2026-11-30T11:59:47.700Z', to: '2026-11-30T11:59:50.000Z', startedAt: '2026-11-30T11:59:50.000Z' },
    'times as ISO strings in --json',
  );
});
