/**
 * A reload in the running daemon, against the simulator: toodles.env read again through `toodles
 * reload` (the control socket, as ExecReload= runs it), the live settings in force at once on the
 * same socket and device, restart-only settings named once, a bad file refused with the old settings
 * kept, and systemd told RELOADING=1 then READY=1 either way.
 */
import t from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHarness } from '../kit/daemon-harness.js';
import { ask, text } from '../kit/commands.js';
import { cli, runtimeDir } from '../kit/observe.js';
import { controlRequest } from '../../src/control/client.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startNotifyListener } from '../kit/notify-listener.js';
import { spawnDaemon } from '../kit/spawn-daemon.js';
import { eventually } from '../kit/wait.js';

const REFUSAL = "Sorry, I can't help you with that.";

t.test('systemctl reload, in process: settings in force on the same connection; a bad file keeps the old ones', async (t) => {
  const dir = runtimeDir(t);
  const envFile = join(dir, 'toodles.env');
  const settings = (lines: string[]) => writeFileSync(envFile, `${lines.join('\n')}\n`);
  settings(['# the operator allows alice only', 'TOODLES_ALLOWED_EMAILS=alice@example.com']);
  const h = await startHarness({
    env: { TOODLES_ENV_FILE: envFile, TOODLES_RUNTIME_DIR: dir, TOODLES_ALLOWED_EMAILS: 'alice@example.com' },
  });
  t.teardown(() => h.stop());
  const reload = () => cli(['reload'], { TOODLES_RUNTIME_DIR: dir });
  const bob = h.sim.directRoom('bob@example.com');
  const carol = h.sim.directRoom('carol@example.com');
  const sockets = () => h.sim.connections().map((c) => `${c.id} ${c.open}`);
  const devices = () => h.sim.devices().map((d) => `${d.id} ${d.deleted}`);

  t.equal(text(await ask(h.sim, 'bob@example.com', bob.id, 'ping')), REFUSAL, 'bob is refused before the reload');

  await t.test('a changed allow list is in force at once, with no reconnect and no new device', async (t) => {
    const [socketsBefore, devicesBefore, logsBefore] = [sockets(), devices(), h.logs.length];
    settings([
      'TOODLES_ALLOWED_EMAILS="alice@example.com, bob@example.com"',
      '# restart-only: named, not applied',
      'TOODLES_RECONNECT_INTERVAL_S=300',
      'TOODLES_ACTIVITY_DAYS=30',
      'export TOODLES_ADMIN_EMAILS=bob@example.com',
    ]);
    const r = await reload();
    t.equal(r.code, 0, `toodles reload exits 0 (${r.stderr})`);
    t.equal(
      r.stdout,
      'toodles reload: reloaded: TOODLES_ALLOWED_EMAILS now in force; TOODLES_ACTIVITY_DAYS, TOODLES_RECONNECT_INTERVAL_S take effect ' +
        'at the next restart; 1 line(s) ignored as systemd ignores them (toodles config check shows which)\n',
    );
    t.match(text(await ask(h.sim, 'bob@example.com', bob.id, 'ping')), /^pong/, 'bob is answered after it');
    t.equal(text(await ask(h.sim, 'carol@example.com', carol.id, 'ping')), REFUSAL, 'carol still is not');
    const since = h.logs.slice(logsBefore);
    t.match(
      since.find((l) => l.event === 'config.reload'),
      { trigger: 'control', file: envFile, changed: ['TOODLES_ALLOWED_EMAILS'], ignored: [/^line 5: systemd does not take "export"/] },
    );
    t.same(
      since.filter((l) => l.event === 'config.restart_needed').map((l) => l.settings),
      [['TOODLES_ACTIVITY_DAYS', 'TOODLES_RECONNECT_INTERVAL_S']],
      'one warning names every restart-only setting',
    );
    t.same(
      since.filter((l) => /^(reconnect|connection|webex\.device)/.test(String(l.event))),
      [],
      'no reconnect, no connection change, no device event',
    );
    t.same(sockets(), socketsBefore, 'the same socket, open throughout');
    t.same(devices(), devicesBefore, 'the same device');
    t.same(h.notices.slice(-2), ['RELOADING=1', 'READY=1'], 'systemd told the reload began and ended');
  });

  await t.test('a bad file is refused with the reason, and the old settings hold', async (t) => {
    const logsBefore = h.logs.length;
    settings(['TOODLES_ALLOWED_EMAILS=alice@example.com,not-an-address', 'TOODLES_LOG_LEVEL=loud']);
    const r = await reload();
    t.equal(r.code, 78, 'toodles reload exits 78');
    t.equal(r.stdout, '');
    t.equal(
      r.stderr,
      'toodles reload: refused, the running settings are kept: TOODLES_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace ' +
        '(got "loud"); TOODLES_ALLOWED_EMAILS: "not-an-address" is not an e-mail address\n',
      'one line naming every bad setting',
    );
    t.match(
      h.logs.slice(logsBefore).find((l) => l.event === 'config.reload_failed'),
      { trigger: 'control', err: /TOODLES_ALLOWED_EMAILS/ },
    );
    t.match(text(await ask(h.sim, 'bob@example.com', bob.id, 'ping')), /^pong/, 'bob, allowed by the running settings, still is');
    t.same(h.notices.slice(-2), ['RELOADING=1', 'READY=1'], 'READY=1 after a refused reload too');

    writeFileSync(envFile, Buffer.concat([Buffer.from('TOODLES_ALLOWED_EMAILS=caf'), Buffer.from([0xe9]), Buffer.from('@example.com\n')]));
    const notUtf8 = await reload();
    t.equal(notUtf8.code, 78);
    t.match(
      notUtf8.stderr,
      /^toodles reload: refused, the running settings are kept: line 1: the value of TOODLES_ALLOWED_EMAILS is not valid UTF-8/,
    );
  });

  await t.test('the log level, the testing rooms and the canary thresholds change live too', async (t) => {
    const group = h.sim.groupRoom('ops', ['alice@example.com']);
    settings([
      'TOODLES_ALLOWED_EMAILS=alice@example.com,bob@example.com',
      'TOODLES_LOG_LEVEL=warn',
      `TOODLES_TESTING_ROOMS=${group.id}`,
      'TOODLES_CANARY_REBUILD_AFTER=0',
      'TOODLES_CANARY_RESTART_AFTER=1',
    ]);
    const r = await reload();
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, 'TOODLES_CANARY_REBUILD_AFTER, TOODLES_CANARY_RESTART_AFTER, TOODLES_LOG_LEVEL, TOODLES_TESTING_ROOMS now in force');
    const logsBefore = h.logs.length;
    t.equal(
      text(await ask(h.sim, 'alice@example.com', h.sim.directRoom('alice@example.com').id, 'testing list')),
      '`testing` is not available in this space.',
    );
    t.match(
      text(await ask(h.sim, 'alice@example.com', group.id, 'testing list')),
      /No approved testing/,
      'testing works in the listed space',
    );
    t.equal(text(await ask(h.sim, 'carol@example.com', carol.id, 'ping')), REFUSAL);
    const events = h.logs.slice(logsBefore).map((l) => l.event);
    t.ok(events.includes('access.denied'), 'warnings are still logged');
    t.notOk(events.includes('command.received') || events.includes('command.done'), 'info lines are not, at level warn');

    const canary = await controlRequest(join(dir, 'control.sock'), 'POST', '/canary', { ok: false, stage: 'no_reply' });
    t.same(canary.body, { consecutiveFailures: 1, heal: 'restart' }, 'the daemon tells the canary to restart after 1 failure now');
  });
});

t.test('a reload loads the command modules again: all good, they replace the old ones; one bad, nothing changes', async (t) => {
  const dir = runtimeDir(t);
  const envFile = join(dir, 'toodles.env');
  const commandsDir = join(dir, 'commands.d');
  mkdirSync(commandsDir);
  const hello = (version: string) =>
    writeFileSync(
      join(commandsDir, 'hello.mjs'),
      `export const apiVersion = 1;
export default { keyword: 'hello', description: 'greets', async run(ctx) { await ctx.reply({ markdown: '${version} ' + ctx.setting('TOODLES_MODULE_GREETING') }); } };
`,
    );
  hello('v1');
  writeFileSync(envFile, 'TOODLES_MODULE_GREETING=hi\n');
  const h = await startHarness({
    env: { TOODLES_ENV_FILE: envFile, TOODLES_RUNTIME_DIR: dir, TOODLES_COMMANDS_DIR: commandsDir, TOODLES_MODULE_GREETING: 'hi' },
  });
  t.teardown(() => h.stop());
  const room = h.sim.directRoom('alice@example.com').id;
  const reload = () => cli(['reload'], { TOODLES_RUNTIME_DIR: dir });
  t.equal(text(await ask(h.sim, 'alice@example.com', room, 'hello')), 'v1 hi');
  const socketsBefore = h.sim.connections().map((c) => `${c.id} ${c.open}`);

  hello('v2');
  writeFileSync(
    join(commandsDir, 'bye.mjs'),
    "export const apiVersion = 1;\nexport default { keyword: 'bye', description: 'parts', async run(ctx) { await ctx.reply({ markdown: 'bye' }); } };\n",
  );
  writeFileSync(envFile, 'TOODLES_MODULE_GREETING=hey\n');
  const r = await reload();
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'toodles reload: reloaded: TOODLES_MODULE_GREETING now in force; commands from modules: bye, hello\n');
  t.equal(text(await ask(h.sim, 'alice@example.com', room, 'hello')), 'v2 hey', 'the changed module, with the changed setting');
  t.equal(text(await ask(h.sim, 'alice@example.com', room, 'bye')), 'bye', 'the new module');
  t.same(
    h.sim.connections().map((c) => `${c.id} ${c.open}`),
    socketsBefore,
    'the same socket throughout',
  );

  writeFileSync(
    join(commandsDir, 'broken.mjs'),
    "export const apiVersion = 1;\nexport default { keyword: 'broken', description: 'x', run( };\n",
  );
  rmSync(join(commandsDir, 'bye.mjs'));
  writeFileSync(envFile, 'TOODLES_MODULE_GREETING=yo\n');
  const bad = await reload();
  t.equal(bad.code, 78);
  t.match(
    bad.stderr,
    new RegExp(
      `^toodles reload: refused, the running settings are kept: command modules in ${commandsDir}: broken\\.mjs: has a syntax error at line 2`,
    ),
  );
  t.equal(text(await ask(h.sim, 'alice@example.com', room, 'hello')), 'v2 hey', 'the running modules and settings are kept');
  t.equal(text(await ask(h.sim, 'alice@example.com', room, 'bye')), 'bye', 'a removed module too: nothing changed');
});

t.test(
  'the daemon as a process: SIGHUP reloads (it used to end the process); systemd hears RELOADING=1, MONOTONIC_USEC, READY=1',
  async (t) => {
    const dir = runtimeDir(t);
    const envFile = join(dir, 'toodles.env');
    writeFileSync(envFile, 'TOODLES_ALLOWED_EMAILS=alice@example.com\n');
    const sim = await startSimulator({ port: 0 });
    t.teardown(() => sim.stop());
    const notify = await startNotifyListener();
    t.teardown(() => notify.close());
    const daemon = spawnDaemon({
      WEBEX_BOT_TOKEN: sim.botToken,
      TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
      TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
      TOODLES_ALLOWED_EMAILS: 'alice@example.com',
      TOODLES_ENV_FILE: envFile,
      NOTIFY_SOCKET: notify.path,
    });
    t.teardown(() => daemon.kill());
    await daemon.waitForLog('daemon.ready');
    await notify.waitFor(/^READY=1$/);
    const bob = sim.directRoom('bob@example.com').id;
    t.equal(text(await ask(sim, 'bob@example.com', bob, 'ping')), REFUSAL);

    writeFileSync(envFile, 'TOODLES_ALLOWED_EMAILS=alice@example.com,bob@example.com\n');
    const readyBefore = notify.lines().filter((l) => l === 'READY=1').length;
    daemon.child.kill('SIGHUP');
    t.match(await daemon.waitForLog('config.reload'), { trigger: 'SIGHUP', changed: ['TOODLES_ALLOWED_EMAILS'] });
    t.match(text(await ask(sim, 'bob@example.com', bob, 'ping')), /^pong/, 'in force after SIGHUP');
    await eventually('READY=1 after the reload', () => notify.lines().filter((l) => l === 'READY=1').length > readyBefore);
    const lines = notify.lines();
    const reloading = lines.lastIndexOf('RELOADING=1');
    t.ok(reloading > 0, 'RELOADING=1 sent');
    t.match(lines[reloading + 1], /^MONOTONIC_USEC=\d+$/, 'with the monotonic clock, as sd_notify(3) asks');
    t.equal(lines.slice(reloading).filter((l) => l === 'READY=1').length, 1, 'then READY=1');

    writeFileSync(envFile, 'TOODLES_ALLOWED_EMAILS=bob\n');
    daemon.child.kill('SIGHUP');
    t.match(await daemon.waitForLog('config.reload_failed'), {
      trigger: 'SIGHUP',
      err: /TOODLES_ALLOWED_EMAILS: "bob" is not an e-mail address/,
    });
    t.match(text(await ask(sim, 'bob@example.com', bob, 'ping')), /^pong/, 'a bad file: the running settings stay');
    t.equal((await daemon.signal('SIGTERM')).code, 0, 'still the same process, stopping cleanly');
  },
);
