import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { startHarness } from '../kit/daemon-harness.js';
import { answered } from '../kit/recovery.js';
import { cli, runtimeDir, skipUnlessRoot } from '../kit/observe.js';
import type { StatusDocument } from '../../src/control/status.js';
import { eventually } from '../kit/wait.js';

t.test('toodles status reads the running daemon over its control socket', async (t) => {
  const dir = runtimeDir(t);
  const h = await startHarness({ env: { TOODLES_RUNTIME_DIR: dir } });
  t.teardown(() => h.stop());
  const env = { TOODLES_RUNTIME_DIR: dir };
  await answered(h);

  await t.test('the socket is mode 0660 and curl-able HTTP', async (t) => {
    const { statSync } = await import('node:fs');
    const mode = statSync(join(dir, 'control.sock')).mode;
    t.equal(mode & 0o777, 0o660, 'mode 0660');
    t.ok(statSync(join(dir, 'control.sock')).isSocket(), 'a Unix socket');
  });

  await t.test('while online: one screen, and --json is the same document', async (t) => {
    const run = await cli(['status'], env);
    t.equal(run.code, 0, 'exit 0');
    t.comment(`\n${run.stdout}`);
    t.ok(run.stdout.split('\n').length <= 24, 'fits one screen');
    for (const label of [
      'toodles',
      'connection',
      'reconnects',
      'last reconnect',
      'deaf in total',
      'messages',
      'last command',
      'watchdog',
      'proxy',
      'device',
      'canary',
      'healing',
      'last catch-up',
    ]) {
      t.match(run.stdout, new RegExp(`^${label} +\\S`, 'm'), `has a "${label}" line`);
    }
    t.match(run.stdout, /^connection +online for \d+s \(as Toodles\)$/m);
    t.match(run.stdout, /^messages +1 handled \(last \d+s ago\), 0 card submits, 0 command failures$/m);
    t.match(run.stdout, /^device +registered \(new\)/m);
    t.match(run.stdout, /^last command +ping, answered \d+s ago$/m);
    t.match(run.stdout, /^last catch-up +none yet$/m, 'a first start without a state directory: nothing to catch up on');

    const json = await cli(['status', '--json'], env);
    t.equal(json.code, 0);
    const doc = JSON.parse(json.stdout) as StatusDocument;
    t.equal(doc.pid, process.pid, 'pid of the daemon');
    t.equal(doc.connection.state, 'online');
    t.equal(doc.messages, 1);
    t.same(doc.reconnects, { graceful: 0, fault: 0 });
    t.equal(doc.device?.registered, true);
    t.equal(doc.bot?.email, h.sim.bot.email);
    t.match(doc.proxy, /direct/);
  });

  await t.test('while backing off: the state and the last reconnect say so', async (t) => {
    h.sim.faults.refuseUpgrades({ status: 503 });
    h.sim.faults.killSockets();
    const doc = await eventually(
      'backing_off in status --json',
      async () => {
        const run = await cli(['status', '--json'], env);
        const d = JSON.parse(run.stdout) as StatusDocument;
        return d.connection.state === 'backing_off' && d;
      },
      15_000,
    );
    t.equal(doc.connection.state, 'backing_off');
    // Backoff and connect attempts alternate while upgrades are refused: wait for the screen to catch one.
    const screen = await eventually(
      'backing_off on the screen',
      async () => {
        const run = await cli(['status'], env);
        return /^connection +backing_off for /m.test(run.stdout) && run;
      },
      15_000,
    );
    t.match(screen.stdout, /^last reconnect +none yet$/m, 'the reconnect is not done yet');
    h.sim.faults.clear();
    await h.waitForLog('reconnect.done', (l) => /1006/.test(String(l.reason)), 20_000);
    const after = JSON.parse((await cli(['status', '--json'], env)).stdout) as StatusDocument;
    t.equal(after.connection.state, 'online');
    t.equal(after.reconnects.fault, 1, 'one reconnect after a fault');
    t.match(after.lastReconnect, { kind: 'fault', reason: /1006/ });
    t.ok(after.deafSTotal > 0, `deaf time counted (${after.deafSTotal} s)`);
    const round = await h.waitForLog('catchup.done', undefined, 20_000);
    const caughtUp = await cli(['status'], env);
    t.match(
      caughtUp.stdout,
      /^last catch-up +\d+s ago \(reconnect\), a gap of [\d.]+ s; took \d+ ms, \d+ requests$/m,
      'the round after it',
    );
    t.match(caughtUp.stdout, new RegExp(`^caught up +${String(round.found)} found: ${String(round.answered)} answered, `, 'm'));
  });

  await t.test('a user outside group toodles is told permission denied, not that no daemon runs', { skip: skipUnlessRoot }, async (t) => {
    // Refused at the runtime directory here (0700; the unit's is 0750) or at the socket (0660): connect() says EACCES either way.
    const run = await cli(['status'], env, { user: 'nobody' });
    t.equal(run.code, 3, 'exit 3 (UNKNOWN) stays');
    t.equal(run.stdout, `toodles: permission denied: run as root or a member of group toodles (${join(dir, 'control.sock')})\n`);
    t.notMatch(run.stdout, /no toodles daemon/);
  });

  await t.test('a bad request gets a clear answer, an unknown path a 404', async (t) => {
    const { controlRequest } = await import('../../src/control/client.js');
    const path = join(dir, 'control.sock');
    t.match(await controlRequest(path, 'POST', '/canary', { ok: 'yes' }), { status: 400, body: { error: /"ok" must be/ } });
    t.match(await controlRequest(path, 'POST', '/canary', { ok: false, stage: 'moon' }), {
      status: 400,
      body: { error: /"stage" must be one of/ },
    });
    t.match(await controlRequest(path, 'GET', '/nope'), { status: 404 });
  });
});

t.test('no daemon: one line naming systemctl status, exit 3', async (t) => {
  const dir = runtimeDir(t);
  const run = await cli(['status'], { TOODLES_RUNTIME_DIR: dir });
  t.equal(run.code, 3, 'exit 3');
  t.equal(run.stdout.trim().split('\n').length, 1, 'one line');
  t.match(run.stdout, /no toodles daemon answers on .*control\.sock \(no socket there\); see `systemctl status toodles`/);
  t.equal((await cli(['status', '--verbose'], { TOODLES_RUNTIME_DIR: dir })).code, 64, 'an unknown flag is a usage error');
  const relative = await cli(['status'], { TOODLES_RUNTIME_DIR: 'run' });
  t.equal(relative.code, 78, 'a bad TOODLES_RUNTIME_DIR exits 78');
  t.match(relative.stderr, /^toodles status: bad configuration: TOODLES_RUNTIME_DIR: must be an absolute path/);
});

t.test('a daemon that does not answer is reported within the 2 s bound, not waited on', async (t) => {
  const dir = runtimeDir(t);
  // Accepts connections and never says a word: a wedged daemon.
  const held: Socket[] = [];
  const mute = createServer((socket) => void held.push(socket));
  await new Promise<void>((r) => mute.listen(join(dir, 'control.sock'), r));
  t.teardown(() => {
    for (const s of held) s.destroy();
    mute.close();
  });
  const run = await cli(['status', '--json'], { RUNTIME_DIRECTORY: dir });
  t.equal(run.code, 3, 'exit 3');
  t.match(run.stdout, /timed out after 2000 ms/);
  t.ok(run.ms < 6_000, `answered in ${run.ms} ms (node start included)`);
});
