import t from 'tap';
import { startHarness, FAST, type Harness } from '../kit/daemon-harness.js';
import { captureLog } from '../kit/log-capture.js';
import { cli, metric, metricBecomes, metricsBase, runtimeDir } from '../kit/observe.js';
import { spawnDaemon } from '../kit/spawn-daemon.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runCanary, type CanaryResult } from '../../src/canary/canary.js';
import { Hydra } from '../../src/canary/hydra.js';
import { controlRequest } from '../../src/control/client.js';
import type { StatusDocument } from '../../src/control/status.js';

const CANARY = 'canary@webex.bot';
/** The canary is a bot: let in by its address, as the README tells operators; people by their domain. */
const ACCESS = { TOODLES_ALLOWED_EMAILS: CANARY, TOODLES_ALLOWED_DOMAINS: 'example.com' };
const TIMEOUT_MS = 3_000;

/** One canary run against this simulator and daemon socket, the way `toodles canary` does it. */
function canaryFor(sim: Simulator, socketPath: string) {
  const { token } = sim.addIdentity({ email: CANARY, displayName: 'Canary' });
  const captured = captureLog();
  const hydra = new Hydra(sim.hydraUrl, token, undefined);
  return {
    token,
    logs: captured.lines,
    run: (): Promise<CanaryResult> => runCanary({ hydra, socketPath, timeoutMs: TIMEOUT_MS, log: captured.logger, pollMs: 50 }),
  };
}

async function status(socketPath: string): Promise<StatusDocument> {
  return (await controlRequest(socketPath, 'GET', '/status')).body as unknown as StatusDocument;
}

const liveDevices = (sim: Simulator) => sim.devices().filter((d) => !d.deleted);

t.test('the canary: passing, deaf, healed by re-registration', async (t) => {
  const dir = runtimeDir(t);
  const h = await startHarness({ env: { ...ACCESS, TOODLES_RUNTIME_DIR: dir, TOODLES_METRICS_LISTEN: '127.0.0.1:0' } });
  t.teardown(() => h.stop());
  const base = await metricsBase(h);
  const socket = `${dir}/control.sock`;
  const canary = canaryFor(h.sim, socket);

  await t.test('passes: ping answered in the thread of its 1:1 space; recorded in status and metrics', async (t) => {
    const r = await canary.run();
    t.match(r, { ok: true });
    t.comment(`canary round trip ${r.roundTripMs} ms`);
    t.ok(
      canary.logs.some((l) => l.event === 'canary.ok' && typeof l.roundTripMs === 'number'),
      'canary.ok logged with the round trip',
    );
    const space = h.sim.directRoom(CANARY);
    const ping = [...h.sim.botMessages()].filter((m) => m.roomId === space.id);
    t.equal(ping.length, 1, 'the bot answered once, in the canary 1:1 space');
    t.equal(ping[0]?.text?.startsWith('pong'), true);
    const doc = await status(socket);
    t.match(doc.canary, { last: { ok: true }, consecutiveFailures: 0 });
    t.equal(await metricBecomes(base, 'toodles_canary_runs_total{result="ok"}', 1), 1);
    t.ok(((await metric(base, 'toodles_canary_round_trip_seconds')) ?? 0) > 0);
  });

  await t.test(
    'deaf device: pings still answered, /healthz still 200, the canary fails twice, the second run rebuilds the link',
    async (t) => {
      const deafDevice = liveDevices(h.sim)[0]!;
      t.equal(h.sim.faults.deafDevice(), 1, 'one device gone deaf');
      const first = await canary.run();
      t.match(first, { ok: false, stage: 'no_reply' });
      t.equal(h.daemon.status().state, 'online', 'the daemon believes it is online: deaf but alive');
      t.equal((await fetch(`${base}/healthz`)).status, 200, '/healthz cannot see it either: only the canary can');
      t.match(canary.logs.at(-1), { event: 'canary.failed', stage: 'no_reply' });
      t.match((await status(socket)).canary, { consecutiveFailures: 1, last: { ok: false, stage: 'no_reply' } });

      const second = await canary.run();
      t.match(second, { ok: false, stage: 'no_reply', healed: 'rebuild' });
      t.ok(
        canary.logs.some((l) => l.event === 'canary.heal' && l.action === 'rebuild' && l.consecutiveFailures === 2),
        'canary.heal logged',
      );
      await h.waitForLog('daemon.heal', (l) => l.action === 'rebuild');
      await h.waitForLog('webex.link_rebuild');
      const done = await h.waitForLog('reconnect.done', (l) => /canary failed 2 times/.test(String(l.reason)));
      t.comment(`rebuilt onto a new device in ${String(done.durationMs)} ms, deaf ${String(done.deafMs)} ms (make before break)`);
      await h.waitForLog('webex.device_dropped');
      const live = liveDevices(h.sim);
      t.equal(live.length, 1, 'one live device');
      t.not(live[0]?.id, deafDevice.id, 'a new registration');
      t.equal(h.sim.devices().find((d) => d.id === deafDevice.id)?.deleted, true, 'the deaf device was deleted');
      const doc = await status(socket);
      t.match(doc.lastHeal, { action: 'rebuild', reason: /canary failed 2 times in a row/ });
      t.equal(doc.reconnects.graceful, 1, 'the rebuild was a graceful reconnect');
      t.equal(await metricBecomes(base, 'toodles_canary_heals_total{action="rebuild"}', 1), 1);
      t.equal(await metricBecomes(base, 'toodles_canary_failures_total{stage="no_reply"}', 2), 2);
      t.equal(await metricBecomes(base, 'toodles_canary_consecutive_failures', 2), 2);
    },
  );

  await t.test('healed: the next run passes and the failure count resets', async (t) => {
    t.match(await canary.run(), { ok: true });
    t.match((await status(socket)).canary, { consecutiveFailures: 0, last: { ok: true } });
    t.equal(await metricBecomes(base, 'toodles_canary_consecutive_failures', 0), 0);
  });

  await t.test('`toodles canary` as a process: exit 0, JSON log lines, no token in them', async (t) => {
    const env = {
      TOODLES_RUNTIME_DIR: dir,
      TOODLES_CANARY_TOKEN: canary.token,
      TOODLES_WEBEX_HYDRA_URL: h.sim.hydraUrl,
      TOODLES_CANARY_TIMEOUT_S: '5',
    };
    const ok = await cli(['canary'], env);
    t.equal(ok.code, 0, `exit 0 (${ok.stderr})`);
    t.match(ok.stdout, /"event":"canary.ok","roundTripMs":\d+/);
    h.sim.faults.failRest({ path: '/v1/messages', method: 'POST', status: 500, count: 1 });
    const failed = await cli(['canary'], env);
    t.equal(failed.code, 2, 'exit 2 when the send fails');
    t.match(failed.stdout, /"event":"canary.failed","stage":"send"/);
    for (const out of [ok.stdout, ok.stderr, failed.stdout, failed.stderr])
      t.notMatch(out, canary.token.split('_')[0]!, 'the canary token is never printed');
    t.equal((await cli(['canary', '--now'], env)).code, 64, 'arguments are refused');
  });
});

t.test('the canary names the stage: daemon not answering, wrong reply; bad settings exit 78', async (t) => {
  const dir = runtimeDir(t);
  const lonely = await startSimulator({ port: 0 });
  t.teardown(() => lonely.stop());
  const noDaemon = canaryFor(lonely, `${dir}/control.sock`);
  t.match(await noDaemon.run(), { ok: false, stage: 'daemon' });
  t.match(noDaemon.logs.at(-1), { event: 'canary.failed', stage: 'daemon', reason: /no socket there/ });

  const h: Harness = await startHarness({
    env: { ...ACCESS, TOODLES_RUNTIME_DIR: dir },
    tuning: { ...FAST, extraCommands: [{ keyword: 'ping', description: 'a broken ping', run: (ctx) => ctx.reply({ markdown: 'pang' }) }] },
  });
  t.teardown(() => h.stop());
  const c = canaryFor(h.sim, `${dir}/control.sock`);
  t.match(await c.run(), { ok: false, stage: 'wrong_reply' });
  t.match(c.logs.at(-1), { event: 'canary.failed', stage: 'wrong_reply', reply: 'pang' });

  const bad = await cli(['canary'], { TOODLES_RUNTIME_DIR: dir });
  t.equal(bad.code, 78);
  t.match(
    bad.stderr,
    /^toodles canary: bad configuration: TOODLES_CANARY_TOKEN: not set \(set it, or provide the webex-canary-token credential\)\n$/,
  );
  const slow = await cli(['canary'], { TOODLES_CANARY_TOKEN: c.token, TOODLES_CANARY_TIMEOUT_S: 'soon' });
  t.equal(slow.code, 78);
  t.match(slow.stderr, /TOODLES_CANARY_TIMEOUT_S/);
});

t.test('when rebuilding is not enough: the third failure makes the daemon exit 75 for systemd to restart it', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const dir = runtimeDir(t);
  const env = {
    WEBEX_BOT_TOKEN: sim.botToken,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_RUNTIME_DIR: dir,
    TOODLES_PROXY_URL: 'direct',
    ...ACCESS,
  };
  const daemon = spawnDaemon(env);
  t.teardown(() => daemon.kill());
  await daemon.waitForLog('daemon.ready', undefined, 30_000);
  const canary = canaryFor(sim, `${dir}/control.sock`);

  sim.faults.deafDevice();
  t.match(await canary.run(), { ok: false, stage: 'no_reply' });
  t.match(await canary.run(), { ok: false, healed: 'rebuild' });
  await daemon.waitForLog('webex.device_dropped');
  // Webex is deaf to the new device too: the rebuild did not help.
  t.equal(sim.faults.deafDevice(), 1);
  t.match(await canary.run(), { ok: false, stage: 'no_reply', healed: 'restart' });
  t.ok(canary.logs.some((l) => l.event === 'canary.heal' && l.action === 'restart' && l.consecutiveFailures === 3));
  const heal = await daemon.waitForLog('daemon.heal', (l) => l.action === 'restart');
  t.match(heal.reason, /canary failed 3 times in a row/);
  const exit = await daemon.waitForExit(30_000);
  t.equal(exit.code, 75, 'exit 75 (EX_TEMPFAIL): Restart=on-failure restarts it, RestartPreventExitStatus does not stop it');
  t.ok(
    daemon.logs().some((l) => l.event === 'webex.unregistered'),
    'it stopped cleanly (device unregistered)',
  );
  t.equal((await cli(['status'], { TOODLES_RUNTIME_DIR: dir })).code, 3, 'no daemon answers once it is gone (socket removed)');

  // What systemd does next: a fresh process, a fresh registration, and the canary passes again.
  sim.faults.clear();
  const again = spawnDaemon(env);
  t.teardown(() => again.kill());
  await again.waitForLog('daemon.ready', undefined, 30_000);
  t.match(await canary.run(), { ok: true });
  await again.signal('SIGTERM');
});
