import t from 'tap';
import { startHarness, FAST } from '../kit/daemon-harness.js';
import { ALICE, answered } from '../kit/recovery.js';
import { healthz, metric, metricBecomes, metricsBase, metricsSettle } from '../kit/observe.js';
import { runToExit } from '../kit/spawn-daemon.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { eventually } from '../kit/wait.js';

t.test('/healthz and /metrics through the real SDK and the simulator', async (t) => {
  const h = await startHarness({
    env: { TOODLES_METRICS_LISTEN: '127.0.0.1:0' },
    tuning: {
      ...FAST,
      extraCommands: [
        {
          keyword: 'boom',
          description: 'always fails',
          run: async () => {
            throw new Error('kaboom');
          },
        },
      ],
    },
  });
  t.teardown(() => h.stop());
  const base = await metricsBase(h);
  const room = h.sim.directRoom(ALICE);
  const ask = async (text: string) => {
    const asked = h.sim.postMessage({ from: ALICE, roomId: room.id, text });
    return h.sim.waitForBotMessage((m) => m.parentId === asked.id, 10_000);
  };

  await t.test('/healthz: 200 while online, 503 with the reason during a black hole, 200 again after', async (t) => {
    const ok = await healthz(base);
    t.equal(ok.status, 200);
    t.match(ok.body, { ok: true, state: 'online' });
    // A black hole: sockets stay open, nothing is read or answered, new sockets never come online.
    h.sim.faults.silence(true);
    h.sim.faults.stopReading(true);
    const started = Date.now();
    const down = await eventually(
      '503',
      async () => {
        const r = await healthz(base);
        return r.status === 503 && r;
      },
      15_000,
    );
    t.comment(`503 after ${Date.now() - started} ms: ${JSON.stringify(down.body)}`);
    t.match(down.body, { ok: false, reason: /nothing heard|backing off|connecting/ });
    h.sim.faults.clear();
    const back = Date.now();
    await eventually('200 again', async () => (await healthz(base)).status === 200, 30_000);
    t.comment(`200 again ${Date.now() - back} ms after the black hole ended`);
    await answered(h);
  });

  await t.test('metrics count a kill, a graceful reconnect, a command and a failure', async (t) => {
    await metricsSettle();
    const fault0 = (await metric(base, 'toodles_reconnects_total{kind="fault"}')) ?? -1;
    const graceful0 = (await metric(base, 'toodles_reconnects_total{kind="graceful"}')) ?? -1;
    const durations0 = (await metric(base, 'toodles_reconnect_duration_seconds_count')) ?? -1;
    t.ok(fault0 >= 1, 'the black hole above was counted as a fault reconnect');

    const before = h.logs.filter((l) => l.event === 'reconnect.done').length;
    const nextReconnect = () =>
      h.waitForLog('reconnect.done', (l) => h.logs.filter((x) => x.event === 'reconnect.done').indexOf(l) >= before, 20_000);
    h.sim.faults.killSockets();
    await nextReconnect();
    t.equal(
      await metricBecomes(base, 'toodles_reconnects_total{kind="fault"}', fault0 + 1),
      fault0 + 1,
      'a kill: one more fault reconnect',
    );

    const before2 = h.logs.filter((l) => l.event === 'reconnect.done').length;
    h.sim.faults.closeSockets(4001, 'drain', { graceMs: 500 });
    await h.waitForLog('reconnect.done', (l) => h.logs.filter((x) => x.event === 'reconnect.done').indexOf(l) >= before2, 20_000);
    t.equal(
      await metricBecomes(base, 'toodles_reconnects_total{kind="graceful"}', graceful0 + 1),
      graceful0 + 1,
      'a Webex drain: one more graceful reconnect',
    );
    t.equal(
      await metricBecomes(base, 'toodles_reconnect_duration_seconds_count', durations0 + 2),
      durations0 + 2,
      'both durations observed',
    );
    t.ok(
      await eventually('deaf time', async () => ((await metric(base, 'toodles_deaf_seconds_total')) ?? 0) > 0, 15_000),
      'deaf time from the faults counted',
    );

    await metricsSettle();
    const messages0 = (await metric(base, 'toodles_messages_total')) ?? -1;
    const pings0 = (await metric(base, 'toodles_command_duration_seconds_count{command="ping"}')) ?? 0;
    t.match((await ask('ping')).markdown, /^pong/);
    t.equal(await metricBecomes(base, 'toodles_messages_total', messages0 + 1), messages0 + 1, 'one more message');
    t.equal(
      await metricBecomes(base, 'toodles_command_duration_seconds_count{command="ping"}', pings0 + 1),
      pings0 + 1,
      'the ping command timed',
    );

    t.match((await ask('boom')).markdown, /Sorry, `boom` failed/);
    t.equal(await metricBecomes(base, 'toodles_command_failures_total{command="boom"}', 1), 1, 'the failure counted under its command');

    const card = await ask('status');
    h.sim.submitCard({ from: ALICE, cardMessageId: card.id, inputs: { command: 'status' } });
    await eventually('card submit counted', async () => (await metric(base, 'toodles_card_submits_total')) === 1, 15_000);
    t.pass('card submit counted');
  });

  await t.test('a REST retry is counted by status; states, watchdog and default Node metrics are there', async (t) => {
    h.sim.faults.failRest({ path: '/v1/messages/', method: 'GET', status: 503, count: 1 });
    await ask('ping');
    t.equal(await metricBecomes(base, 'toodles_webex_rest_retries_total{status="503"}', 1), 1);
    t.equal(await metricBecomes(base, 'toodles_connection_state{state="online"}', 1), 1);
    t.equal(await metricBecomes(base, 'toodles_connection_state{state="backing_off"}', 0), 0);
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
      'process_resident_memory_bytes',
      'toodles_watchdog_last_ping_timestamp_seconds',
      'toodles_canary_runs_total',
    ]) {
      t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exported`);
    }
    t.notMatch(text, room.id, 'no room id in any label');
    t.notMatch(text, /command="(?!ping"|boom"|status")/, 'command labels are registered command names only');
    t.equal((await fetch(`${base}/nope`)).status, 404);
    t.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  });

  await t.test('catch-up rounds: each counted once, with the messages it found by outcome, left-overs and its duration', async (t) => {
    const ended = () => h.logs.filter((l) => l.event === 'catchup.done' || l.event === 'catchup.failed');
    const sum = (field: string) => ended().reduce((n, l) => n + Number(l[field] ?? 0), 0);
    const roundsBefore = ended().length;
    h.sim.faults.refuseUpgrades({ status: 503 });
    h.sim.faults.killSockets();
    await h.waitForLog('reconnect.wait');
    const missed = [
      h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' }),
      h.sim.postMessage({ from: ALICE, roomId: room.id, text: 'help' }),
    ];
    h.sim.faults.refuseUpgrades(false);
    const round = await h.waitForLog('catchup.done', (l) => ended().indexOf(l) >= roundsBefore, 20_000);
    for (const m of missed) await h.sim.waitForBotMessage((r) => r.parentId === m.id, 10_000);
    t.ok(Number(round.answered) >= 2, 'the round answered what was sent during the outage');
    const rounds = ended().length;
    t.ok(rounds > roundsBefore, `${rounds} rounds so far, one after each fault reconnect`);
    t.equal(await metricBecomes(base, 'toodles_catchup_rounds_total{outcome="done"}', rounds), rounds, 'every round counted once');
    t.equal(await metricBecomes(base, 'toodles_catchup_rounds_total{outcome="failed"}', 0), 0);
    t.equal(await metric(base, 'toodles_catchup_messages_total{outcome="answered"}'), sum('answered'), 'answered, as the rounds logged it');
    t.equal(await metric(base, 'toodles_catchup_messages_total{outcome="already_answered"}'), sum('alreadyAnswered'));
    t.equal(await metric(base, 'toodles_catchup_messages_total{outcome="too_old"}'), 0);
    t.equal(await metric(base, 'toodles_catchup_leftover_total'), 0);
    t.equal(await metric(base, 'toodles_catchup_requests_total'), sum('requests'), 'listing requests, as the rounds logged them');
    t.equal(
      await metric(base, 'toodles_catchup_last_duration_seconds'),
      Number(ended().at(-1)?.durationMs) / 1000,
      "the last round's duration",
    );
  });
});

t.test('TOODLES_METRICS_LISTEN: loopback unless an address is written out; a bad value exits 78', async (t) => {
  const env = (v: string) => ({ WEBEX_BOT_TOKEN: 'a'.repeat(30) + '_PF84_org', TOODLES_METRICS_LISTEN: v });
  t.same(loadConfig(env('9464')).metricsListen, { host: '127.0.0.1', port: 9464 });
  t.same(loadConfig(env(':9464')).metricsListen, { host: '127.0.0.1', port: 9464 });
  t.same(loadConfig(env('0.0.0.0:9464')).metricsListen, { host: '0.0.0.0', port: 9464 });
  t.same(loadConfig(env('[::1]:9464')).metricsListen, { host: '::1', port: 9464 });
  t.equal(loadConfig({ WEBEX_BOT_TOKEN: env('1').WEBEX_BOT_TOKEN }).metricsListen, undefined, 'off when unset');
  for (const bad of ['metrics.example.com:9464', '127.0.0.1:99999', 'http://127.0.0.1:9464', '127.0.0.1:']) {
    t.throws(
      () => loadConfig(env(bad)),
      new ConfigError('TOODLES_METRICS_LISTEN', `must be [ADDRESS:]PORT with an IP address, e.g. 127.0.0.1:9464 (got "${bad}")`),
    );
  }
  const r = await runToExit(env('everywhere'));
  t.equal(r.code, 78, 'exit 78');
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  t.match(r.stderr, /TOODLES_METRICS_LISTEN/);
});
