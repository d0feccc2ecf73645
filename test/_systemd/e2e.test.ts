/**
 * toodles under a REAL systemd (issue 5): boots systemd 252 as PID 1 of fresh namespaces over a
 * copy-on-write overlay of / (test/_systemd/nested-systemd.sh), runs install.sh in it, and drives the
 * installed service against the Webex simulator, which runs in this test process. The nested systemd
 * shares the host's network namespace so the daemon can reach the simulator on 127.0.0.1 and npm can
 * fill any gap in its cache; everything else it does stays in its own namespaces and overlay.
 *
 * Needs root, overlayfs and cgroup2 (skips otherwise, saying which). Env:
 *   TOODLES_E2E_SOURCE   source tree install.sh builds from (default: this repository)
 *   KEEP_CONSOLE=FILE    keep the nested systemd's console log there (read by nested-systemd.sh down)
 *
 * The unit is the shipped one, watchdog and restart values included: the freeze scenario measures
 * freeze -> answering with them (issue 11), and the load scenarios prove them safe.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startPostgres, type TestPostgres } from '../kit/postgres.js';
import { ROOT } from '../kit/spawn-daemon.js';
import { sleep } from '../kit/wait.js';
import { ATTEMPTS, hostileSource, SD_NOTIFY_PROOF } from './hostile-dependency.js';

const HARNESS = join(ROOT, 'test/_systemd/nested-systemd.sh');
const SRC = resolve(process.env.TOODLES_E2E_SOURCE ?? ROOT);
const UNIT = 'toodles.service';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (boots a nested systemd in new namespaces)';
  if (!existsSync('/lib/systemd/systemd')) return 'systemd is not installed (/lib/systemd/systemd)';
  let fs = '';
  try {
    fs = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    /* unreadable: treated as missing */
  }
  if (!/\boverlay\b/.test(fs)) return 'no overlayfs in /proc/filesystems';
  if (!/\bcgroup2\b/.test(readFileSync('/proc/self/mounts', 'utf8'))) return 'no cgroup2 hierarchy mounted';
  return undefined;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
    child.stdin.end(opts.input ?? '');
  });
}

const fmt = (s: number) => s.toFixed(2);

const reason = skipReason();
if (reason) {
  t.plan(0, reason);
} else {
  t.setTimeout(30 * 60_000); // ~20 min on 2 loaded cores, four release builds among them
  await main();
}

async function main(): Promise<void> {
  const W = mkdtempSync(join(tmpdir(), 'toodles-sd.'));
  // eslint-disable-next-line prefer-const -- the teardown below may run before the assignment (a run failing early), where a const would throw
  let sim: Simulator | undefined;
  let database: TestPostgres | undefined; // issue 14's block starts it; it outlives that block, like the daemon using it
  t.teardown(async () => {
    await run(HARNESS, ['down', W], { timeoutMs: 60_000 });
    await sim?.stop();
    await database?.close();
  });

  /** bash -c CMD inside the nested systemd, as root with a clean environment. */
  const sh = (cmd: string, opts: { input?: string; timeoutMs?: number } = {}) => run(HARNESS, ['exec', W, '--', 'bash', '-c', cmd], opts);
  const show = async (props: string): Promise<Record<string, string>> => {
    const r = await sh(`systemctl show ${UNIT} -p ${props}`);
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  };
  /** `show(props)`, read again every 200 ms until `ready` holds of it; the last reading once timeoutMs is over. */
  const showWhen = async (props: string, ready: (p: Record<string, string>) => boolean, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    let p = await show(props);
    while (!ready(p) && Date.now() < until) {
      await sleep(200);
      p = await show(props);
    }
    return p;
  };
  const journal = async (since: number) => (await sh(`journalctl -u ${UNIT} --no-pager -o cat --since @${Math.floor(since)}`)).stdout;
  const nowS = () => Date.now() / 1000;
  const figures: string[] = [];
  const figure = (line: string) => {
    figures.push(line);
    t.comment(line);
  };

  sim = await startSimulator({ port: 0, host: '127.0.0.1' });
  const s = sim;
  const room = s.directRoom('alice@example.com');
  const latestDevice = () => [...s.devices()].sort((a, b) => a.registeredAt - b.registeredAt).pop();
  /** A person says `text`; resolves with the bot's threaded reply (or throws after timeoutMs). */
  const ask = async (text: string, timeoutMs = 15_000) => {
    const msg = s.postMessage({ from: 'alice@example.com', roomId: room.id, text });
    return s.waitForBotMessage((m) => m.parentId === msg.id, timeoutMs);
  };

  // The repository (install.sh) and SRC are bind-mounted read-only at the same paths: the overlay
  // shows only the root file system, and the nested /tmp is a fresh tmpfs.
  const binds = [...new Set([ROOT, SRC])].flatMap((p) => ['--bind', p]);
  const up = await run(HARNESS, ['up', W, '--owner-pid', String(process.pid), '--share-net', ...binds], { timeoutMs: 90_000 });
  if (up.code !== 0) {
    t.fail(`nested systemd did not boot: ${up.stderr.trim()}`);
    return;
  }
  figure(`nested systemd booted in ${up.stdout.trim().split(' ')[1]}s`);

  await t.test('install.sh installs, starts after READY and prints status', async (t) => {
    // The operator's settings exist before the first install: install.sh must keep them.
    const env = [
      '# written by the e2e test',
      `TOODLES_WEBEX_U2C_URL=${s.u2cUrl}`,
      `TOODLES_WEBEX_HYDRA_URL=${s.hydraUrl}`,
      'TOODLES_LOG_LEVEL=info',
      // scheduled reconnects every few seconds, so the journal and `toodles monitor` tests see them
      'TOODLES_RECONNECT_INTERVAL_S=5',
      'TOODLES_DRAIN_TIMEOUT_S=2',
      '',
    ].join('\n');
    const prep = await sh(
      `set -e; install -d -m 0750 /etc/toodles; cat > /etc/toodles/toodles.env; ` +
        `umask 077; printf '%s\\n' '${s.botToken}' > /root/bot-token`,
      { input: env },
    );
    t.equal(prep.code, 0, `prepared settings: ${prep.stderr}`);

    const r = await sh(`npm_config_prefer_offline=true bash ${ROOT}/install.sh --source ${SRC} --token-file /root/bot-token`, {
      timeoutMs: 600_000,
    });
    t.equal(r.code, 0, 'install.sh exits 0');
    if (r.code !== 0) t.comment(r.stdout + r.stderr);
    figure(`install.sh (build + start) took ${fmt(r.seconds)}s`);
    const m = /returned after READY=1, ([\d.]+)s/.exec(r.stdout);
    t.ok(m, 'install.sh reports the start after READY');
    if (m) figure(`install.sh: systemctl start -> READY ${m[1]}s`);
    t.match(r.stdout, /Active: active \(running\)/, 'install.sh prints systemctl status');
    t.notMatch(r.stdout + r.stderr, s.botToken, 'install.sh never prints the token');

    const files = await sh(
      'stat -c "%a %U:%G %n" /etc/toodles/webex-bot-token /etc/toodles/toodles.env; readlink /opt/toodles/current; ' +
        'head -1 /etc/toodles/toodles.env; getent passwd toodles | cut -d: -f7; systemctl is-enabled toodles',
    );
    t.match(files.stdout, /^600 root:root \/etc\/toodles\/webex-bot-token$/m, 'token file is root:root 0600');
    t.match(files.stdout, /^releases\/\d+\.\d+\.\d+[^/]*-\d{8}T\d{6}Z$/m, 'current -> releases/<version>-<time>');
    t.match(files.stdout, /^# written by the e2e test$/m, 'the existing toodles.env was kept');
    t.match(files.stdout, /nologin/, 'system user toodles exists, no login shell');
    t.match(files.stdout, /^enabled$/m, 'unit enabled');

    const props = await show('Environment,ActiveState,SubState');
    t.notMatch(props.Environment ?? '', s.botToken, 'token is not in the unit environment');
    t.equal(props.ActiveState, 'active');

    // issue 21: the build's own identity, and a release only root can change
    const build = await sh(
      'id -Gn toodles-build; cd /opt/toodles/current && cat .build-key && find . ! -user root -print -quit && find . ! -type l -perm /022 -print -quit',
    );
    t.equal(build.stdout.split('\n')[0], 'toodles-build', 'user toodles-build exists, in its own group only (not toodles)');
    t.match(
      build.stdout,
      / built by toodles-build\n$/,
      'the release records who built its node_modules, and nothing in it is not root-owned or is writable by others',
    );
  });

  await t.test('unit: verify clean, security exposure <= 2.0', async (t) => {
    const v = await sh(`systemd-analyze verify /etc/systemd/system/${UNIT} 2>&1`);
    t.equal(v.code, 0, 'systemd-analyze verify exits 0');
    t.equal(v.stdout.trim(), '', 'systemd-analyze verify prints nothing');
    const sec = await sh(`systemd-analyze security ${UNIT} --no-pager`);
    const m = /Overall exposure level for toodles\.service: ([\d.]+)/.exec(sec.stdout);
    t.ok(m, 'security report has an overall exposure');
    const exposure = Number(m?.[1] ?? 99);
    figure(`systemd-analyze security toodles: exposure ${exposure}`);
    t.ok(exposure <= 2.0, `exposure ${exposure} <= 2.0`);
  });

  await t.test('systemctl start returns after READY; status shows STATUS; a message is answered; JSON logs', async (t) => {
    const since = nowS();
    let r = await sh(`systemctl stop ${UNIT}`, { timeoutMs: 60_000 });
    t.equal(r.code, 0, 'stopped');
    const devicesBefore = s.devices().length;
    r = await sh(`systemctl start ${UNIT}`, { timeoutMs: 120_000 });
    t.equal(r.code, 0, 'systemctl start exits 0');
    figure(`systemctl start -> READY: ${fmt(r.seconds)}s`);
    // READY=1 is sent once the first connection is online: by the time start returns, the bot has
    // registered a new device and holds a socket to the simulator.
    const live = s
      .devices()
      .slice(devicesBefore)
      .filter((d) => !d.deleted);
    t.ok(live.length >= 1, 'a device was registered before systemctl start returned');
    t.ok(s.connections().length >= 1, 'the bot is connected when systemctl start returns');
    const props = await show('ActiveState,SubState,StatusText,MainPID');
    t.equal(props.ActiveState, 'active');
    t.ok((props.StatusText ?? '').length > 0, `STATUS text: "${props.StatusText}"`);
    const st = await sh(`systemctl status ${UNIT} --no-pager`);
    t.match(st.stdout, /Status: ".+"/, 'systemctl status shows the Status line');

    const reply = await ask('ping');
    t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'ping is answered with pong, in the thread');

    await sleep(300);
    // native journal entries (issue 9): one per event, a sentence in MESSAGE, the event's own fields
    const entries = (await sh(`journalctl -u ${UNIT} --no-pager -o json --since @${Math.floor(since)} SYSLOG_IDENTIFIER=toodles`)).stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    t.ok(entries.length >= 2, `journalctl -u toodles has the daemon's entries (${entries.length})`);
    t.ok(
      entries.every((e) => typeof e.EVENT === 'string' && typeof e.MESSAGE === 'string' && !e.MESSAGE.startsWith('{')),
      'every entry carries an EVENT and a sentence, never JSON',
    );
    const all = (
      await sh(`journalctl -u ${UNIT} --no-pager -o cat; ls -R /var/log/toodles 2>/dev/null; cat /var/log/toodles/* 2>/dev/null`)
    ).stdout;
    t.notMatch(all, s.botToken, 'the token appears in neither the journal nor the log files');
  });

  await t.test('a command module in /etc/toodles/commands.d loads under the hardened unit, which cannot write there', async (t) => {
    const dirs = await sh('stat -c "%a %U:%G %n" /etc/toodles /etc/toodles/commands.d');
    t.match(dirs.stdout, /^710 root:toodles \/etc\/toodles\n755 root:root \/etc\/toodles\/commands\.d$/m, "passable, not listable; root's");
    const since = nowS();
    const r = await sh(`install -m 0644 ${ROOT}/examples/commands/links.mjs /etc/toodles/commands.d/ && systemctl restart ${UNIT}`, {
      timeoutMs: 120_000,
    });
    t.equal(r.code, 0, r.stderr);
    t.match(await journal(since), /Command modules in \/etc\/toodles\/commands\.d: links$/m);
    const saved = await ask('links add wiki https://wiki.example.com');
    t.equal(saved.markdown ?? saved.text, 'Saved `wiki`: [wiki](https://wiki.example.com/)', 'its store is the state directory');
    const probe = await sh(`setpriv --reuid=toodles --regid=toodles --clear-groups touch /etc/toodles/commands.d/probe; echo $?`);
    t.not(probe.stdout.trim(), '0', 'the service user cannot add a module');
    await sh(`rm -f /etc/toodles/commands.d/links.mjs && systemctl restart ${UNIT}`, { timeoutMs: 120_000 });
  });

  /** systemd restarted the unit since `before` was read, and the new process is running. */
  const restartedAndRunning = (before: Record<string, string>, p: Record<string, string>) =>
    Number(p.NRestarts) > Number(before.NRestarts) && p.ActiveState === 'active' && p.SubState === 'running';

  await t.test('SIGSTOP freeze: watchdog kill, restart, answering again', async (t) => {
    const since = nowS();
    const before = await show('MainPID,NRestarts');
    const t0 = Date.now();
    const k = await sh(`kill -STOP ${before.MainPID}`);
    t.equal(k.code, 0, `froze main pid ${before.MainPID}`);
    const after = await showWhen('MainPID,NRestarts,ActiveState,SubState', (p) => restartedAndRunning(before, p), 90_000);
    t.ok(Number(after.NRestarts) > Number(before.NRestarts), `restarted (NRestarts ${before.NRestarts} -> ${after.NRestarts})`);
    t.not(after.MainPID, before.MainPID, 'a new main process');
    const reply = await ask('ping', 30_000);
    const secs = (Date.now() - t0) / 1000;
    t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'answering again');
    const unit = await show('WatchdogUSec,RestartUSec');
    figure(`freeze -> answering again: ${fmt(secs)}s (shipped unit: WatchdogSec=${unit.WatchdogUSec}, RestartSec=${unit.RestartUSec})`);
    t.ok(secs <= 15, `answering again ${fmt(secs)}s after the freeze (<= 15 s)`);
    const j = (await sh(`journalctl -u ${UNIT} --no-pager --since @${Math.floor(since)}`)).stdout;
    t.match(j, /Watchdog timeout/, 'systemd logged the watchdog timeout');
    t.match(j, /Failed with result 'watchdog'/, "unit failed with result 'watchdog' before restarting");
  });

  await t.test('systemctl stop: STOPPING, clean exit inside TimeoutStopSec, device unregistered', async (t) => {
    const since = nowS();
    const r = await sh(`systemctl stop ${UNIT}`, { timeoutMs: 60_000 });
    t.equal(r.code, 0, 'systemctl stop exits 0');
    figure(`systemctl stop took ${fmt(r.seconds)}s (TimeoutStopSec=30s)`);
    t.ok(r.seconds < 15, 'stop well inside TimeoutStopSec');
    const props = await show('ActiveState,Result,ExecMainStatus,ExecMainCode');
    t.equal(props.ActiveState, 'inactive');
    t.equal(props.Result, 'success', 'Result=success (no SIGKILL, no timeout)');
    t.equal(props.ExecMainStatus, '0', 'main process exited 0');
    // (the instance killed by the watchdog above could not unregister its device; this one must)
    t.equal(latestDevice()?.deleted, true, 'the device of the stopped instance is unregistered');
    const j = (await sh(`journalctl -u ${UNIT} --no-pager -o cat --since @${Math.floor(since)}`)).stdout;
    t.match(j, /Stopping toodles/, 'systemd logged the stop');
    t.notMatch(j, /SIGKILL|timed out/i, 'no kill after timeout');
  });

  /**
   * After a start that must fail for good: the unit failed with this exit status, never restarted. A unit
   * systemd will restart waits in "activating (auto-restart)", never "failed"; a loop that the start
   * limit ended is failed with restarts counted.
   */
  const failedWithoutRestarts = async (t: Test, exitStatus: string) => {
    const props = await showWhen('ActiveState,SubState,ExecMainStatus,NRestarts,StatusText', (p) => p.ActiveState === 'failed', 60_000);
    t.equal(props.ActiveState, 'failed', 'unit is failed');
    t.equal(props.SubState, 'failed', 'no restart pending');
    t.equal(props.ExecMainStatus, exitStatus, `exit status ${exitStatus}`);
    t.equal(props.NRestarts, '0', 'not restarted (RestartPreventExitStatus=77 78)');
    return props;
  };
  const answersPing = async (t: Test) => {
    const reply = await ask('ping');
    t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'answering');
  };

  await t.test('bad setting: unit fails with the one-line reason, no restart loop', async (t) => {
    const since = nowS();
    let r = await sh(
      `echo 'TOODLES_RECONNECT_INTERVAL_S=soon' >> /etc/toodles/toodles.env; systemctl reset-failed ${UNIT}; systemctl start ${UNIT}`,
      {
        timeoutMs: 120_000,
      },
    );
    t.not(r.code, 0, 'systemctl start fails');
    await failedWithoutRestarts(t, '78');
    const j = await journal(since);
    const reasonLines = j.split('\n').filter((l) => l.includes('TOODLES_RECONNECT_INTERVAL_S'));
    t.equal(reasonLines.length, 1, `one line names the setting: ${reasonLines[0] ?? '(none)'}`);
    t.notMatch(j, /^\s+at /m, 'no stack trace');
    r = await sh(
      `sed -i '/^TOODLES_RECONNECT_INTERVAL_S=soon$/d' /etc/toodles/toodles.env; systemctl reset-failed ${UNIT}; systemctl start ${UNIT}`,
      {
        timeoutMs: 120_000,
      },
    );
    t.equal(r.code, 0, 'starts again once the setting is fixed');
    await answersPing(t);
  });

  await t.test('a token Webex rejects: exit 77, STATUS says why, no restart loop', async (t) => {
    const since = nowS();
    s.faults.failRest({ path: 'people/me', status: 401 });
    let r = await sh(`systemctl restart ${UNIT}`, { timeoutMs: 120_000 });
    t.not(r.code, 0, 'the restart fails: no READY');
    const props = await failedWithoutRestarts(t, '77');
    t.match(props.StatusText, /rejected the bot token/, `STATUS says why: ${props.StatusText}`);
    t.match(await journal(since), /Giving up: .*rejected the bot token/, 'the journal says why');
    s.faults.clear();
    r = await sh(`systemctl reset-failed ${UNIT}; systemctl start ${UNIT}`, { timeoutMs: 120_000 });
    t.equal(r.code, 0, 'starts again once Webex accepts the token');
    await answersPing(t);
  });

  await t.test('install.sh with a missing prerequisite stops and leaves the running release alone', async (t) => {
    const before = (await sh('readlink /opt/toodles/current; systemctl show -p MainPID --value toodles')).stdout;
    // A tree whose package-lock.json differs (by a trailing newline): its dependencies must be built anew.
    const r = await sh(
      `set -e; rm -rf /root/relocked-src; mkdir /root/relocked-src; tar -C ${SRC} --exclude=node_modules --exclude=dist --exclude=.git --exclude=.tap -cf - . | tar -C /root/relocked-src -xf -; ` +
        `echo >> /root/relocked-src/package-lock.json; ` +
        `mv /usr/include/systemd/sd-daemon.h /root/sd-daemon.h.hidden; set +e; bash ${ROOT}/install.sh --source /root/relocked-src; rc=$?; ` +
        `mv /root/sd-daemon.h.hidden /usr/include/systemd/sd-daemon.h; exit $rc`,
    );
    t.not(r.code, 0, 'install.sh fails');
    t.match(r.stderr, /libsystemd-dev/, 'names the missing package');
    t.match(r.stderr, /apt-get install -y libsystemd-dev/, 'says how to install it');
    const after = (await sh('readlink /opt/toodles/current; systemctl show -p MainPID --value toodles')).stdout;
    t.equal(after, before, 'same release, same process');
    const reply = await ask('ping');
    t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'still answering');
  });

  await t.test('install.sh re-run upgrades in place; --rollback goes back; both keep answering', async (t) => {
    const first = (await sh('readlink /opt/toodles/current')).stdout.trim();
    // The same package-lock.json as the running release: its node_modules are reused, so no native
    // build and no build toolchain is needed (the header the native build needs is hidden meanwhile).
    let r = await sh(
      `mv /usr/include/systemd/sd-daemon.h /root/sd-daemon.h.hidden; npm_config_prefer_offline=true bash ${ROOT}/install.sh --source ${SRC}; rc=$?; ` +
        `mv /root/sd-daemon.h.hidden /usr/include/systemd/sd-daemon.h; exit $rc`,
      { timeoutMs: 600_000 },
    );
    t.equal(r.code, 0, 'upgrade exits 0');
    if (r.code !== 0) t.comment(r.stdout + r.stderr);
    t.match(r.stdout, /keeping the installed token/, 'keeps the token');
    t.match(r.stdout, /keeping \/etc\/toodles\/toodles.env/, 'keeps the settings');
    t.match(r.stdout, /reused the production node_modules of /, 'an upgrade with the same package-lock.json reuses the native builds');
    t.match(r.stdout, /linked the build's node_modules from the last build/, 'and the build tools npm delivered last time');
    const kept = await sh(
      'stat -c "%U %a" /opt/toodles/build-modules; stat -c %U /opt/toodles/build-modules/node_modules/typescript/package.json',
    );
    t.equal(kept.stdout, 'root 700\nroot\n', "the build's node_modules are kept root's, out of the build user's reach");
    figure(`install.sh upgrade, node_modules reused (build + restart) took ${fmt(r.seconds)}s`);
    const second = (await sh('readlink /opt/toodles/current; readlink /opt/toodles/previous')).stdout.trim().split('\n');
    t.not(second[0], first, `current switched to ${second[0]}`);
    t.equal(second[1], first, 'previous points at the old release');
    let reply = await ask('ping');
    t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'answering after the upgrade');

    r = await sh(`bash ${ROOT}/install.sh --rollback`, { timeoutMs: 120_000 });
    t.equal(r.code, 0, '--rollback exits 0');
    if (r.code !== 0) t.comment(r.stdout + r.stderr);
    const third = (await sh('readlink /opt/toodles/current; readlink /opt/toodles/previous')).stdout.trim().split('\n');
    t.equal(third[0], first, 'current is the first release again');
    t.equal(third[1], second[0], 'previous is the upgrade (rollback again = roll forward)');
    t.match(r.stdout, /Active: active \(running\)/, 'running after rollback');
    reply = await ask('ping');
    t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'answering after the rollback');
  });

  await t.test('switching to a release that does not start: install.sh switches back, old one keeps answering', async (t) => {
    // A copy of the running release whose daemon exits 1 at once, recorded as "previous".
    const cur = (await sh('readlink /opt/toodles/current')).stdout.trim();
    const prep = await sh(
      `set -e; cp -a /opt/toodles/${cur} /opt/toodles/releases/0.0.0-broken; ` +
        `echo 'process.exit(1)' > /opt/toodles/releases/0.0.0-broken/dist/src/cli.js; ` +
        `ln -sfn releases/0.0.0-broken /opt/toodles/previous`,
    );
    t.equal(prep.code, 0, 'prepared a broken release');
    const r = await sh(`bash ${ROOT}/install.sh --rollback`, { timeoutMs: 180_000 });
    t.not(r.code, 0, 'install.sh fails');
    t.match(r.stderr, /did not start; .* is running again/, `says so: ${r.stderr.trim().split('\n').pop()}`);
    const links = (await sh('readlink /opt/toodles/current; readlink /opt/toodles/previous')).stdout.trim().split('\n');
    t.equal(links[0], cur, 'current points at the working release again');
    t.equal(links[1], 'releases/0.0.0-broken', 'previous is restored');
    t.equal((await show('ActiveState')).ActiveState, 'active', 'service active');
    const reply = await ask('ping');
    t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'answering');
  });

  /** The release links, and the main process: what must not change when install.sh refuses. */
  const installed = async () =>
    (
      await sh(
        'readlink /opt/toodles/current /opt/toodles/previous; systemctl show -p MainPID --value toodles; ls -a /opt/toodles/releases',
      )
    ).stdout;

  await t.test('install.sh refuses bad input before touching anything; the unit and files are hardened (issue 12)', async (t) => {
    const before = await installed();
    let r = await sh(
      'set -e; mkdir -p /opt/toodles/releases/.staging-stale; : > /root/empty-token; mkdir -p /root/token-dir; ' +
        `printf '  %s and-more\\n' '${s.botToken.slice(0, 20)}' > /root/spaced-token`,
    );
    t.equal(r.code, 0, 'prepared a stale staging dir and three bad token files');
    for (const [file, why] of [
      ['/root/empty-token', /is empty/],
      ['/root/token-dir', /is a directory/],
      ['/root/spaced-token', /white space inside/],
    ] as const) {
      r = await sh(`bash ${ROOT}/install.sh --source ${SRC} --token-file ${file}`);
      t.not(r.code, 0, `--token-file ${file} is refused`);
      t.match(r.stderr, why, r.stderr.trim());
      t.notMatch(r.stdout + r.stderr, s.botToken.slice(0, 20), 'the token is not echoed');
      t.notMatch(r.stdout, /building/, 'before building');
    }
    t.notMatch((await sh('ls -a /opt/toodles/releases')).stdout, /\.staging-/, 'the stale staging directory was removed under the lock');

    const cur = (await sh('readlink /opt/toodles/current')).stdout.trim();
    r = await sh(
      `cp -a /opt/toodles/${cur} /opt/toodles/releases/0.0.0-neverran && rm /opt/toodles/releases/0.0.0-neverran/.reached-ready || exit 99; ` +
        `prev=$(readlink /opt/toodles/previous); ln -sfn releases/0.0.0-neverran /opt/toodles/previous; ` +
        `bash ${ROOT}/install.sh --rollback; rc=$?; ln -sfn "$prev" /opt/toodles/previous; rm -rf /opt/toodles/releases/0.0.0-neverran; exit $rc`,
    );
    t.equal(r.code, 1, '--rollback to a release that never reached READY is refused');
    t.match(r.stderr, /0\.0\.0-neverran has never run/, r.stderr.trim());

    // The lock: a planted symlink (at the old world-writable place, and at the new one) truncates nothing.
    r = await sh(
      `printf precious > /root/victim; ln -sfn /root/victim /run/lock/toodles-install.lock; rm -rf /run/toodles-install; ln -sfn /root /run/toodles-install; ` +
        `bash ${ROOT}/install.sh --source /nonexistent; rc=$?; cat /root/victim; rm -f /run/lock/toodles-install.lock /run/toodles-install; exit $rc`,
    );
    t.not(r.code, 0, 'install.sh stops');
    t.match(r.stderr, /\/run\/toodles-install is a symlink; refusing/, r.stderr.trim());
    t.equal(r.stdout, 'precious', 'the file behind the symlinks is intact');
    r = await sh(`bash ${ROOT}/install.sh --source /nonexistent; stat -c '%a %U %F' /run/toodles-install`);
    t.match(r.stdout, /^700 root directory$/m, 'the lock is a root-only directory in /run');

    const hardening = await sh(
      'stat -c "%a %U:%G" /etc/toodles/toodles.env; systemctl show -p LimitCORE --value toodles; ls -a /opt/toodles/current/',
    );
    t.match(
      hardening.stdout,
      /^640 root:toodles$/m,
      'toodles.env (written 0644 by the operator) was made 0640, for the service to read at a reload',
    );
    t.match(hardening.stdout, /^0$/m, 'LimitCORE=0: no core dumps');
    t.notMatch(hardening.stdout, /\.npmrc/, 'no .npmrc in the installed release');
    t.equal(await installed(), before, 'links, release list and main process unchanged');

    r = await sh(`echo 'WEBEX_BOT_TOKEN=${s.botToken}' >> /etc/toodles/toodles.env; bash ${ROOT}/install.sh --source ${SRC}`);
    t.not(r.code, 0, 'a token in toodles.env stops install.sh');
    t.match(r.stderr, /toodles\.env sets WEBEX_BOT_TOKEN: remove that line/, r.stderr.trim());
    t.notMatch(r.stdout + r.stderr, s.botToken, 'without showing it');
    const since = nowS();
    r = await sh(`systemctl restart ${UNIT}`, { timeoutMs: 120_000 });
    t.not(r.code, 0, 'and the daemon refuses to start with it');
    await failedWithoutRestarts(t, '78');
    const named = (await journal(since)).split('\n').filter((l) => l.includes('WEBEX_BOT_TOKEN'));
    t.equal(named.length, 1, `one line: ${named[0]}`);
    t.match(named[0], /webex-bot-token credential/, 'naming the credential too');
    t.notMatch(await journal(since), s.botToken, 'the token is not in the journal');
    r = await sh(`sed -i '/^WEBEX_BOT_TOKEN=/d' /etc/toodles/toodles.env; systemctl reset-failed ${UNIT}; systemctl start ${UNIT}`, {
      timeoutMs: 120_000,
    });
    t.equal(r.code, 0, 'starts again without it');
    await answersPing(t);
  });

  await t.test('a build that fails (a type error) stops install.sh with its output; nothing switched, still answering', async (t) => {
    const before = await installed();
    const r = await sh(
      `set -e; rm -rf /root/broken-src; mkdir /root/broken-src; tar -C ${SRC} --exclude=node_modules --exclude=dist --exclude=.git --exclude=.tap -cf - . | tar -C /root/broken-src -xf -; ` +
        `echo 'export const broken: number = "not a number";' >> /root/broken-src/src/version.ts; ` +
        `set +e; npm_config_prefer_offline=true bash ${ROOT}/install.sh --source /root/broken-src`,
      { timeoutMs: 600_000 },
    );
    t.not(r.code, 0, 'install.sh fails');
    t.match(r.stdout + r.stderr, /error TS2322/, 'the compiler error is shown');
    t.match(r.stderr, /build failed at npm run build/, 'and which step failed');
    t.match(r.stderr, /nothing was switched/);
    t.equal(await installed(), before, 'same release, no new one, no staging left, same process');
    await answersPing(t);
  });

  // Issue 21: the audit's stand-in for a malicious install script, as a dependency of the source tree.
  await t.test(
    'a dependency whose install script attacks: no secret, nothing outside its tree, and its patch to sd-notify stops the install',
    async (t) => {
      const before = await installed();
      let r = await sh(`node --input-type=module - ${SRC} /root/hostile-src`, { input: hostileSource(Number(new URL(s.hydraUrl).port)) });
      t.equal(r.code, 0, `a source tree that depends on it ${r.stderr}`);
      r = await sh(`npm_config_prefer_offline=true npm_config_foreground_scripts=true bash ${ROOT}/install.sh --source /root/hostile-src`, {
        timeoutMs: 600_000,
      });
      figure(`install.sh with a hostile dependency (built from scratch, refused after the build): ${fmt(r.seconds)}s`);
      t.not(r.code, 0, 'install.sh stops');
      t.same(
        r.stderr.split('\n').filter((l) => l.startsWith('install.sh: error:')),
        [
          "install.sh: error: the build changed node_modules/sd-notify/index.js, which the registry delivered; refusing this release (a dependency's install script did it)",
        ],
        'with one line saying why',
      );
      t.match(r.stderr, /nothing was switched/);

      const said = new Map<string, string>();
      for (const [, what = '', outcome = ''] of r.stdout.matchAll(/^HOSTILE ([^:]+): (.*)$/gm)) said.set(what, outcome);
      const ids = (await sh('id -u toodles-build; id -u toodles; getent group toodles | cut -d: -f3')).stdout.trim().split('\n');
      const identity = said.get('identity') ?? '(the script did not run)';
      t.match(identity, `uid=${ids[0]} `, `the script ran as toodles-build: ${identity}`);
      t.notMatch(identity, new RegExp(`uid=${ids[1]} |[=,]${ids[2]}(,|$)`), 'not as toodles, nor in its group');
      const { linger, sdNotify, ...refused } = ATTEMPTS;
      for (const what of Object.values(refused)) t.match(said.get(what), /^failed \(/, `${what}: ${said.get(what)}`);
      t.equal(said.get(linger), 'done', 'it could start a process (it is killed with the build step)');
      t.equal(said.get(sdNotify), 'done', 'it could patch sd-notify in its own tree (the build user owns node_modules while it builds)');

      const left = await sh(
        `ls /root/PWNED.txt /etc/PWNED.txt ${SD_NOTIFY_PROOF} 2>/dev/null; pgrep -u toodles-build -a; ` +
          'grep -l hostile /opt/toodles/current/dist/src/cli.js; grep -l "User=root" /etc/systemd/system/toodles.service; ' +
          'grep -c PWNED /opt/toodles/current/node_modules/sd-notify/index.js; true',
      );
      t.equal(
        left.stdout,
        '0\n',
        'nothing written outside its tree, no process left, the running release, its unit and its sd-notify untouched, nothing run as root',
      );
      t.equal(await installed(), before, 'nothing switched, no release added, no staging left, the same process');
      t.notMatch(r.stdout + r.stderr, s.botToken, 'the token is not in the output');
      await answersPing(t);
    },
  );

  const good = async () => (await sh('readlink /opt/toodles/current')).stdout.trim();
  /** A copy of the running release whose daemon never sends READY (it just idles). */
  const makeHang = async (t: Test) => {
    const r = await sh(
      `set -e; rm -rf /opt/toodles/releases/0.0.0-hang; cp -a /opt/toodles/$(readlink /opt/toodles/current) /opt/toodles/releases/0.0.0-hang; ` +
        `echo 'setInterval(() => {}, 1000);' > /opt/toodles/releases/0.0.0-hang/dist/src/cli.js`,
    );
    t.equal(r.code, 0, 'prepared a release that never sends READY');
  };
  const waitFor = async (what: string, cmd: string, pattern: RegExp, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    let out = '';
    while (Date.now() < until) {
      out = (await sh(cmd)).stdout;
      if (pattern.test(out)) return out;
      await sleep(200);
    }
    throw new Error(`${what}: no ${pattern} within ${timeoutMs} ms (last: ${out})`);
  };

  await t.test(
    '--rollback while the unit is activating (a release that never sends READY): it restarts, well within the start timeout',
    async (t) => {
      const ok = await good();
      await makeHang(t);
      await sh(
        `ln -sfn releases/0.0.0-hang /opt/toodles/current; ln -sfn ${ok} /opt/toodles/previous; systemctl restart --no-block ${UNIT}`,
      );
      await waitFor('the hanging release starts', `systemctl show -p ActiveState --value ${UNIT}`, /^activating$/m, 60_000);
      const r = await sh(`bash ${ROOT}/install.sh --rollback`, { timeoutMs: 300_000 });
      t.equal(r.code, 0, '--rollback exits 0');
      if (r.code !== 0) t.comment(r.stdout + r.stderr);
      figure(`--rollback from an activating, never-ready release: ${fmt(r.seconds)}s (TimeoutStartSec=90s)`);
      t.ok(r.seconds < 60, `done in ${fmt(r.seconds)}s, not after the 90 s start timeout`);
      t.equal(await good(), ok, 'current is the good release');
      t.equal((await show('ActiveState')).ActiveState, 'active');
      await answersPing(t);
    },
  );

  await t.test(
    'SIGHUP (a dropped SSH session) while install.sh waits for READY: the switch back completes, outcome in the journal',
    async (t) => {
      const ok = await good();
      await makeHang(t);
      await sh('ln -sfn releases/0.0.0-hang /opt/toodles/previous');
      const since = nowS();
      const started = await sh(`setsid bash ${ROOT}/install.sh --rollback >/root/hup.out 2>&1 </dev/null & echo $!`);
      const pid = started.stdout.trim();
      t.match(pid, /^\d+$/, `install.sh runs as pid ${pid}, leading its own process group`);
      await waitFor(
        'install.sh switches to the hanging release',
        `readlink /opt/toodles/current; systemctl show -p ActiveState --value ${UNIT}`,
        /0\.0\.0-hang\nactivating/,
        60_000,
      );
      await sleep(1_000);
      const hupAt = Date.now();
      t.equal((await sh(`kill -HUP -- -${pid}`)).code, 0, 'SIGHUP sent to install.sh and its children, as a hangup does');
      await waitFor('install.sh finishes', `kill -0 ${pid} 2>/dev/null && echo running || echo gone`, /^gone$/m, 150_000);
      figure(`SIGHUP during the switch -> old release running again: ${fmt((Date.now() - hupAt) / 1000)}s`);
      t.equal(await good(), ok, 'current is the good release again');
      t.equal((await sh('readlink /opt/toodles/previous')).stdout.trim(), 'releases/0.0.0-hang', 'previous restored');
      t.equal((await show('ActiveState')).ActiveState, 'active', 'service active');
      await answersPing(t);
      const log = (await sh(`journalctl -t toodles-install --no-pager -o cat --since @${Math.floor(since)}`)).stdout;
      t.match(log, /interrupted by SIGHUP while 0\.0\.0-hang was starting/, 'the interruption is in the journal');
      t.match(log, /the switch to 0\.0\.0-hang was interrupted \(SIGHUP\); \S+ is running again/, 'and the outcome, as an interruption');
      t.notMatch(log, /did not start/, 'not as a release that did not start');
    },
  );

  // ---- issue 9: native journal entries and `toodles monitor` against the real journal
  /** journalctl -o json for the unit, parsed; `extra` adds matches or options. */
  const entries = async (extra: string) =>
    (await sh(`journalctl -u ${UNIT} --no-pager -o json ${extra}`)).stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, string>);
  /** `entries(extra)`, read again every 500 ms until `ready` holds of them; the last reading once timeoutMs is over. */
  const entriesWhen = async (extra: string, ready: (es: Array<Record<string, string>>) => boolean, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    let es = await entries(extra);
    while (!ready(es) && Date.now() < until) {
      await sleep(500);
      es = await entries(extra);
    }
    return es;
  };
  const isoNow = () => new Date().toISOString();
  /** An ISO time as journalctl's --since reads it (UTC, whole seconds). */
  const journalTime = (iso: string) => `${iso.replace('T', ' ').slice(0, 19)} UTC`;
  const monitor = (args: string) => sh(`toodles monitor ${args}`, { timeoutMs: 60_000 });
  const freeze = async (t: Test) => {
    const before = await show('MainPID,NRestarts');
    await sh(`kill -STOP ${before.MainPID}`);
    const after = await showWhen('NRestarts,ActiveState,SubState', (p) => restartedAndRunning(before, p), 90_000);
    t.ok(Number(after.NRestarts) > Number(before.NRestarts), 'the watchdog killed and restarted it');
    await answersPing(t);
  };

  await t.test('journal: a sentence per event, priority per level, EVENT= selects, the token in no field', async (t) => {
    const since = nowS();
    // refused upgrades after a cut: the bot is deaf, and says so at warning level (reconnect.wait) until it is back
    s.faults.refuseUpgrades({ count: 3 });
    s.faults.killSockets();
    await answersPing(t);
    // the cut's reconnect, then scheduled ones (TOODLES_RECONNECT_INTERVAL_S=5)
    const done = await entriesWhen(
      `--since @${Math.floor(since)} EVENT=reconnect.done`,
      (es) => es.length >= 3 && es.some((e) => e.REASON === 'scheduled'),
      60_000,
    );
    t.ok(done.length >= 3, `EVENT=reconnect.done selects ${done.length} entries`);
    t.ok(
      done.every((e) => e.EVENT === 'reconnect.done' && e.SYSLOG_IDENTIFIER === 'toodles' && e.PRIORITY === '6'),
      'all reconnect.done, identifier toodles, priority 6',
    );
    t.ok(
      done.every((e) => /^\d+$/.test(e.DURATION_MS ?? '') && /^\d+$/.test(e.DEAF_MS ?? '') && e.REASON),
      'DURATION_MS, DEAF_MS, REASON as fields',
    );
    t.ok(
      done.every((e) => /^Reconnected in \d+ ms \(.+\); deaf \d+ ms$/.test(e.MESSAGE ?? '')),
      `MESSAGE readable: "${done[0]?.MESSAGE}"`,
    );
    t.ok(
      done.some((e) => e.REASON === 'scheduled'),
      'scheduled reconnects happened',
    );
    t.ok(
      done.some((e) => /connection closed/.test(e.REASON ?? '') && Number(e.DEAF_MS) > 0),
      'the cut is a reconnect with deaf time',
    );

    const warnings = await entries(`--since @${Math.floor(since)} -p warning`);
    const ours = warnings.filter((e) => e.SYSLOG_IDENTIFIER === 'toodles');
    t.ok(ours.length >= 1, `journalctl -p warning lists the bot's warnings: ${ours.map((e) => e.EVENT).join(', ')}`);
    t.ok(
      ours.every((e) => Number(e.PRIORITY) <= 4),
      'and nothing below warning',
    );
    t.notOk(
      ours.some((e) => e.EVENT === 'reconnect.done'),
      'info events are not in it',
    );
    const failed = await entries('EVENT=daemon.failed');
    t.ok(failed.length >= 1 && failed.every((e) => e.PRIORITY === '3'), 'errors (daemon.failed from the rejected token) have priority 3');
    const any = await entries(`--since @${Math.floor(since)} SYSLOG_IDENTIFIER=toodles`);
    t.ok(
      any.every((e) => e.MESSAGE && !e.MESSAGE.startsWith('{')),
      `no MESSAGE is JSON (${any.length} entries)`,
    );

    const all = (await sh(`journalctl -u ${UNIT} --no-pager -o json --all; cat /var/log/toodles/* 2>/dev/null`)).stdout;
    t.notMatch(all, s.botToken, 'the token is in no journal field and no log file');
    const sample = (await sh(`journalctl -u ${UNIT} --no-pager --since @${Math.floor(since)} | head -n 14`)).stdout;
    t.comment(`journalctl -u toodles:\n${sample}`);
    const wsample = (await sh(`journalctl -u ${UNIT} --no-pager -p warning --since @${Math.floor(since)} | head -n 6`)).stdout;
    t.comment(`journalctl -p warning -u toodles:\n${wsample}`);
    const cmd = await sh('command -v toodles; grep ^CLI= /usr/local/bin/toodles; toodles --help >/dev/null; echo "help exit $?"');
    t.match(cmd.stdout, /^\/usr\/local\/bin\/toodles$/m, 'install.sh put toodles on the PATH');
    t.match(cmd.stdout, /^CLI=\/opt\/toodles\/current\/dist\/src\/cli\.js$/m, 'running the current release');
    t.match(cmd.stdout, /help exit 0/);
  });

  await t.test('toodles monitor on the real journal: OK after scheduled reconnects', async (t) => {
    const since = isoNow();
    // three scheduled reconnects after `since` (TOODLES_RECONNECT_INTERVAL_S=5)
    await entriesWhen(
      `--since '${journalTime(since)}' EVENT=reconnect.done`,
      (es) => es.filter((e) => e.REASON === 'scheduled').length >= 3,
      60_000,
    );
    const r = await monitor(`--since ${since}`);
    t.comment(`toodles monitor --since ${since}:\n${r.stdout}`);
    t.equal(r.code, 0, 'exit 0 (OK)');
    t.match(r.stdout, /^Process: pid \d+, toodles \d+\.\d+\.\d+, up /m, 'names the current process and its uptime');
    t.match(r.stdout, /healthy graceful reconnects/, 'the scheduled reconnects, summarised');
    t.match(r.stdout, /^OK: /m);
    const j = JSON.parse((await monitor(`--json --since ${since}`)).stdout) as { verdict: string; totals: { reconnects: number } };
    t.equal(j.verdict, 'OK');
    t.ok(j.totals.reconnects >= 2, `--json: ${j.totals.reconnects} reconnects`);
    const nobody = await sh('runuser -u nobody -- toodles monitor; echo "exit $?"');
    t.match(
      nobody.stdout,
      /^UNKNOWN: nobody may not read the system journal .*\nexit 3\n$/,
      `non-root without the journal groups: one line, exit 3 (${nobody.stdout.trim()})`,
    );
  });

  await t.test('toodles monitor after a watchdog kill: CRITICAL naming the cause; -p warning shows it', async (t) => {
    const since = isoNow();
    await freeze(t);
    const warn = (await sh(`journalctl -u ${UNIT} --no-pager -p warning --since '${journalTime(since)}'`)).stdout;
    t.match(warn, /Watchdog timeout/, 'journalctl -p warning -u toodles lists the watchdog timeout');
    const r = await monitor(`--since ${since}`);
    t.comment(`toodles monitor after a watchdog kill:\n${r.stdout}`);
    t.equal(r.code, 2, 'exit 2 (CRITICAL)');
    t.match(r.stdout, /^CRITICAL: .*watchdog restart at /m, 'the verdict names the watchdog restart');
    t.match(r.stdout, /^Restarts:\n\s+\S+ \S+\s+watchdog timeout/m, 'the restart and its cause');
  });

  await t.test('toodles monitor after a bad-config exit: CRITICAL, the unit failed, the setting named', async (t) => {
    const since = isoNow();
    await sh(`echo 'TOODLES_RECONNECT_INTERVAL_S=soon' >> /etc/toodles/toodles.env; systemctl restart ${UNIT}`, { timeoutMs: 120_000 });
    await sleep(2_000);
    const r = await monitor(`--since ${since}`);
    t.comment(`toodles monitor after a bad-config exit:\n${r.stdout}`);
    t.equal(r.code, 2, 'exit 2 (CRITICAL)');
    t.match(r.stdout, /^CRITICAL: the unit is not active \(failed\): exit status 78 \(bad configuration: TOODLES_RECONNECT_INTERVAL_S/m);
    const fixed = await sh(
      `sed -i '/^TOODLES_RECONNECT_INTERVAL_S=soon$/d' /etc/toodles/toodles.env; systemctl reset-failed ${UNIT}; systemctl start ${UNIT}`,
      { timeoutMs: 120_000 },
    );
    t.equal(fixed.code, 0, 'starts again once fixed');
    await answersPing(t);
  });

  await t.test('the audit trail under the hardened unit: toodles activity lists the pings', async (t) => {
    const reply = await ask('ping');
    t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'answering');
    const r = await sh(
      'ls -l /var/lib/toodles/toodles.db && TOODLES_STATE_DIR=/var/lib/toodles toodles activity --json --command ping --since 1h',
    );
    t.equal(r.code, 0, `toodles activity exits 0 ${r.stderr.trim()}`);
    const rows = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{ personEmail: string; outcome: string }>;
    t.ok(
      rows.length >= 1 && rows.every((row) => row.personEmail === 'alice@example.com' && row.outcome === 'ok'),
      `${rows.length} ping records, all ok`,
    );
    const failures = await sh(`journalctl -u ${UNIT} --no-pager -o cat EVENT=storage.failed + EVENT=storage.open_failed`);
    t.equal(failures.stdout.trim(), '', 'the database never failed');
  });

  // Issue 10: the control socket, `toodles status` and the canary under the real systemd.
  const toodles = 'toodles'; // /usr/local/bin/toodles, put on the PATH by install.sh
  const canaryIdentity = s.addIdentity({ email: 'canary@webex.bot', displayName: 'Canary' });

  await t.test('toodles status reads /run/toodles/control.sock; exit 3 and one line when the daemon is stopped', async (t) => {
    const sock = await sh('stat -c "%a %U:%G %F" /run/toodles/control.sock');
    t.match(sock.stdout, /^660 toodles:toodles socket$/m, 'the socket is toodles:toodles 0660');
    const st = await sh(`${toodles} status`);
    t.equal(st.code, 0, 'exit 0');
    t.comment(`\n${st.stdout}`);
    t.match(st.stdout, /^connection +online for /m);
    t.match(st.stdout, /^watchdog +last ping \d+s ago$/m, 'the watchdog is being pinged');
    const doc = JSON.parse((await sh(`${toodles} status --json`)).stdout) as { pid: number; connection: { state: string } };
    t.equal(String(doc.pid), (await show('MainPID')).MainPID, '--json: the main pid');
    t.equal(doc.connection.state, 'online');
    await sh(`systemctl stop ${UNIT}`, { timeoutMs: 60_000 });
    const none = await sh(`${toodles} status`);
    t.equal(none.code, 3, 'exit 3 with no daemon');
    t.equal(none.stdout.trim().split('\n').length, 1, 'one line');
    t.match(none.stdout, /see `systemctl status toodles`/);
    t.equal((await sh(`systemctl start ${UNIT}`, { timeoutMs: 120_000 })).code, 0, 'started again');
    await answersPing(t);
  });

  await t.test(
    'systemctl reload: a changed allow list answers a person refused before, same process and device; a bad file fails the reload and the old settings hold',
    async (t) => {
      const bob = s.directRoom('bob@example.com');
      const askAs = async (email: string, roomId: string) => {
        const msg = s.postMessage({ from: email, roomId, text: 'ping' });
        const reply = await s.waitForBotMessage((m) => m.parentId === msg.id, 15_000);
        return reply.markdown ?? reply.text ?? '';
      };
      const original = (await sh('cat /etc/toodles/toodles.env')).stdout;
      const settings = (lines: string[]) => sh('cat > /etc/toodles/toodles.env', { input: `${original}${lines.join('\n')}\n` });
      const before = await show('MainPID,NRestarts');
      const devicesBefore = s.devices().map((d) => `${d.id} ${d.deleted}`);
      // journalctl's --since counts whole seconds, and the start just before logged in this one: begin at the next.
      await sleep(1_050 - (Date.now() % 1_000));
      const since = nowS();

      await settings(['TOODLES_ALLOWED_EMAILS=alice@example.com']);
      let r = await sh(`systemctl reload ${UNIT}`, { timeoutMs: 120_000 });
      t.equal(r.code, 0, `systemctl reload exits 0 ${r.stderr}`);
      t.equal(await askAs('bob@example.com', bob.id), "Sorry, I can't help you with that.", 'bob is refused by the reloaded allow list');

      await settings(['TOODLES_ALLOWED_EMAILS=alice@example.com,bob@example.com', 'TOODLES_ACTIVITY_DAYS=30']);
      r = await sh(`systemctl reload ${UNIT}`, { timeoutMs: 120_000 });
      t.equal(r.code, 0, 'systemctl reload exits 0');
      figure(`systemctl reload (ExecReload= asking the daemon, RELOADING=1 .. READY=1): ${fmt(r.seconds)}s`);
      t.match(await askAs('bob@example.com', bob.id), /pong/i, 'bob is answered after it');
      const after = await show('MainPID,NRestarts,ActiveState,SubState');
      t.same(after, { ...before, ActiveState: 'active', SubState: 'running' }, 'the same process, never restarted, active (running)');
      t.same(
        s.devices().map((d) => `${d.id} ${d.deleted}`),
        devicesBefore,
        'the same device, no new one',
      );
      const j = await journal(since);
      t.match(j, /Settings reloaded: TOODLES_ALLOWED_EMAILS now in force$/m);
      t.match(j, /TOODLES_ACTIVITY_DAYS changed: takes effect at the next restart$/m, 'the restart-only setting named once');
      t.match(
        j,
        /toodles reload: reloaded: TOODLES_ALLOWED_EMAILS now in force; commands from modules: none; TOODLES_ACTIVITY_DAYS takes effect at the next restart$/m,
        "ExecReload's own line",
      );
      const reconnects = j.split('\n').filter((l) => / Reconnecting \(/.test(l) && !l.includes('(scheduled)'));
      t.same(reconnects, [], 'no reconnect but the scheduled ones (every 5 s here)');
      t.notMatch(j, /Webex device registered/, 'no device registered');

      await settings(['TOODLES_ALLOWED_EMAILS=alice@example.com,bob']);
      const check = await sh(`${toodles} config check`);
      t.equal(check.code, 78, 'toodles config check finds it first');
      t.match(
        check.stderr,
        /^toodles config check: \/etc\/toodles\/toodles\.env:\d+: TOODLES_ALLOWED_EMAILS: "bob" is not an e-mail address$/m,
      );
      const failedSince = nowS();
      r = await sh(`systemctl reload ${UNIT}`, { timeoutMs: 120_000 });
      t.not(r.code, 0, 'systemctl reload fails');
      t.match(
        await journal(failedSince),
        /toodles reload: refused, the running settings are kept: TOODLES_ALLOWED_EMAILS: "bob" is not an e-mail address$/m,
        'the reason, one line, in the journal',
      );
      t.same(
        await show('MainPID,ActiveState,SubState'),
        { MainPID: before.MainPID, ActiveState: 'active', SubState: 'running' },
        'still running',
      );
      t.match(await askAs('bob@example.com', bob.id), /pong/i, 'the old settings hold: bob still answered');

      await sh('cat > /etc/toodles/toodles.env', { input: original });
      t.equal((await sh(`${toodles} config check`)).code, 0, 'config check: ok again');
      t.equal((await sh(`systemctl reload ${UNIT}`, { timeoutMs: 120_000 })).code, 0, 'back to the settings before');
    },
  );

  await t.test(
    'toodles run by root runs the release as the service user (issue 21): status, activity, monitor, canary, help',
    async (t) => {
      // A preload (NODE_OPTIONS passes through the wrapper) records who ran each node process.
      const probe = `require('fs').appendFileSync('/tmp/ran-as', process.getuid() + ' ' + process.argv.slice(2).join(' ') + '\\n');\n`;
      let r = await sh('cat > /tmp/uid-probe.cjs && chmod 0644 /tmp/uid-probe.cjs && : > /tmp/ran-as && chmod 0666 /tmp/ran-as', {
        input: probe,
      });
      t.equal(r.code, 0, r.stderr);
      r = await sh(
        "export NODE_OPTIONS='--require /tmp/uid-probe.cjs'; " +
          `${toodles} status >/dev/null; ${toodles} activity >/dev/null; ${toodles} monitor --since 1m >/dev/null; ` +
          `${toodles} canary 2>/dev/null; ${toodles} --help >/dev/null; cat /tmp/ran-as; rm -f /tmp/ran-as /tmp/uid-probe.cjs`,
        { timeoutMs: 120_000 },
      );
      const ran = r.stdout.trim().split('\n');
      t.same(
        ran.map((l) => l.slice(l.indexOf(' ') + 1)),
        ['status', 'activity', 'monitor --journal-window --since 1m', 'monitor --journal-stdin --since 1m', 'canary', '--help'],
        'each command ran (monitor twice: for its window, then on the journal root read)',
      );
      const uid = (await sh('id -u toodles')).stdout.trim();
      t.ok(
        ran.every((l) => l.startsWith(`${uid} `)),
        `every one as toodles (uid ${uid}), none as root: ${ran.join('; ')}`,
      );
    },
  );

  await t.test('install.sh --canary-token-file installs the canary timer; a run passes and shows in toodles status', async (t) => {
    const before = await sh('ls /etc/systemd/system | grep -c canary; ls /etc/toodles');
    t.match(before.stdout, /^0$/m, 'no canary unit before the option');
    t.notMatch(before.stdout, /webex-canary-token/, 'no canary token before the option');
    const prep = await sh(
      `umask 077; printf '%s\\n' '${canaryIdentity.token}' > /root/canary-token; printf 'TOODLES_CANARY_TIMEOUT_S=4\\n' >> /etc/toodles/toodles.env; ` +
        // Access control from here on: people of example.com, and the canary (a bot) by its address.
        `printf 'TOODLES_ALLOWED_DOMAINS=example.com\\nTOODLES_ALLOWED_EMAILS=${canaryIdentity.person.email}\\n' >> /etc/toodles/toodles.env`,
    );
    t.equal(prep.code, 0);
    const r = await sh(`npm_config_prefer_offline=true bash ${ROOT}/install.sh --source ${SRC} --canary-token-file /root/canary-token`, {
      timeoutMs: 600_000,
    });
    t.equal(r.code, 0, 'install.sh exits 0');
    if (r.code !== 0) t.comment(r.stdout + r.stderr);
    t.match(r.stdout, /the canary runs every 5 minutes/);
    t.notMatch(r.stdout + r.stderr, canaryIdentity.token, 'the canary token is never printed');
    const files = await sh(
      'stat -c "%a %U:%G" /etc/toodles/webex-canary-token; systemctl is-enabled toodles-canary.timer; systemctl is-active toodles-canary.timer',
    );
    t.match(files.stdout, /^600 root:root$/m, 'canary token root:root 0600');
    t.match(files.stdout, /^enabled\nactive$/m, 'timer enabled and active');
    const timer = await sh('systemctl show toodles-canary.timer -p TimersMonotonic --value');
    t.match(timer.stdout, /OnUnitActiveUSec=5min/, 'every 5 minutes');
    const sec = await sh('systemd-analyze security toodles-canary.service --no-pager');
    const exposure = Number(/Overall exposure level for toodles-canary\.service: ([\d.]+)/.exec(sec.stdout)?.[1] ?? 99);
    figure(`systemd-analyze security toodles-canary: exposure ${exposure}`);
    t.ok(exposure <= 2.0, `hardened like the main unit: exposure ${exposure} <= 2.0`);
    const v = await sh('systemd-analyze verify /etc/systemd/system/toodles-canary.service /etc/systemd/system/toodles-canary.timer 2>&1');
    t.equal(v.stdout.trim(), '', 'systemd-analyze verify prints nothing');

    await sh('systemctl stop toodles-canary.timer'); // the runs below are ours, not the timer's
    const since = nowS();
    const run = await sh('systemctl start toodles-canary.service', { timeoutMs: 120_000 });
    t.equal(run.code, 0, 'the canary passes');
    const j = (await sh(`journalctl -u toodles-canary.service --no-pager -o json --all --since @${Math.floor(since)}`)).stdout;
    const ok = j
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, string>)
      .find((e) => e.EVENT === 'canary.ok');
    t.ok(ok, 'EVENT=canary.ok in the journal');
    t.match(ok?.ROUND_TRIP_MS ?? '', /^\d+$/, 'with its round trip as a field');
    figure(`canary round trip under systemd: ${ok?.ROUND_TRIP_MS} ms`);
    t.notMatch(j, canaryIdentity.token, 'no token in the journal');
    t.match((await sh(`${toodles} status`)).stdout, /^canary +ok, round trip \d+ ms/m, 'toodles status shows it');
  });

  await t.test('deaf device: two canary failures rebuild the link, a third restarts the daemon through systemd', async (t) => {
    const canary = () => sh('systemctl start toodles-canary.service', { timeoutMs: 120_000 });
    const since = nowS();
    s.faults.deafDevice();
    t.not((await canary()).code, 0, 'first run fails');
    t.equal((await sh('systemctl show toodles-canary.service -p ExecMainStatus --value')).stdout.trim(), '2', 'exit 2');
    const deaf = s
      .devices()
      .filter((d) => !d.deleted)
      .map((d) => d.id);
    t.not((await canary()).code, 0, 'second run fails and asks for a rebuild');
    let fresh: string | undefined;
    for (let i = 0; i < 100 && !fresh; i++, await sleep(100)) fresh = s.devices().find((d) => !d.deleted && !deaf.includes(d.id))?.id;
    t.ok(fresh, 'the daemon registered a new device');
    const heal = await sh(`journalctl -u ${UNIT} --no-pager -o cat --since @${Math.floor(since)} EVENT=daemon.heal ACTION=rebuild`);
    t.match(heal.stdout, /\S/, 'the daemon logged the rebuild (EVENT=daemon.heal ACTION=rebuild)');
    t.match((await sh(`${toodles} status`)).stdout, /^healing +rebuild /m, 'toodles status shows the rebuild');

    s.faults.deafDevice(); // Webex is deaf to the new device too: the rebuild was not enough
    const before = await show('MainPID,NRestarts');
    t.not((await canary()).code, 0, 'third run fails and asks for a restart');
    let after: Record<string, string> = {};
    for (let i = 0; i < 300; i++, await sleep(100)) {
      after = await show('MainPID,NRestarts,ActiveState,SubState');
      if (Number(after.NRestarts) > Number(before.NRestarts) && after.SubState === 'running') break;
    }
    t.ok(Number(after.NRestarts) > Number(before.NRestarts), `systemd restarted it (NRestarts ${before.NRestarts} -> ${after.NRestarts})`);
    t.not(after.MainPID, before.MainPID, 'a new main process');
    t.match(await sh(`journalctl -u ${UNIT} --no-pager --since @${Math.floor(since)}`).then((r) => r.stdout), /status=75/, 'it exited 75');
    s.faults.clear();
    t.equal((await canary()).code, 0, 'the canary passes against the restarted daemon');
    await answersPing(t);
    await sh('systemctl start toodles-canary.timer');
  });

  await t.test('2 minutes of stress-ng on every core with messages flowing: no watchdog kill', async (t) => {
    const before = await show('MainPID,NRestarts');
    const stress = run('stress-ng', ['--cpu', '0', '--timeout', '120s', '--quiet'], { timeoutMs: 150_000 });
    const started = Date.now();
    let asked = 0;
    const slow: number[] = [];
    while (Date.now() - started < 120_000) {
      const t0 = Date.now();
      await ask('ping', 30_000);
      asked++;
      slow.push(Date.now() - t0);
      await sleep(1_000);
    }
    const r = await stress;
    t.equal(r.code, 0, `stress-ng ran for 2 minutes on every core: ${r.stderr.trim()}`);
    const after = await show('MainPID,NRestarts,ActiveState');
    t.equal(after.NRestarts, before.NRestarts, 'no restart');
    t.equal(after.MainPID, before.MainPID, 'the same process throughout');
    figure(`stress-ng 2 min on every core: ${asked} pings answered, slowest ${Math.max(...slow)} ms, no watchdog kill`);
  });

  await t.test('a burst of GC-heavy work (300 messages at once): no watchdog kill', async (t) => {
    const before = await show('MainPID,NRestarts');
    const t0 = Date.now();
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => ask(`status ${i}`, 120_000)));
    t.equal(replies.length, 300, 'every message answered');
    const answeredS = (Date.now() - t0) / 1000;
    // A watchdog ping systemd received after the burst (its monotonic clock is this kernel's, as is
    // hrtime): pings missed during it would have had the process killed, not pinging again.
    const burstOverUs = process.hrtime.bigint() / 1000n;
    const after = await showWhen(
      'MainPID,NRestarts,WatchdogTimestampMonotonic',
      (p) => BigInt(p.WatchdogTimestampMonotonic ?? 0) > burstOverUs,
      30_000,
    );
    t.ok(BigInt(after.WatchdogTimestampMonotonic ?? 0) > burstOverUs, 'systemd received a watchdog ping after the burst');
    t.equal(after.NRestarts, before.NRestarts, 'no restart');
    t.equal(after.MainPID, before.MainPID, 'the same process throughout');
    figure(`300 messages at once: all answered in ${fmt(answeredS)}s, no watchdog kill`);
  });

  await t.test('a crash loop is still stopped by the start limit (RestartSec=1s)', async (t) => {
    const dropIn = `/etc/systemd/system/${UNIT}.d/50-e2e-crash.conf`;
    let r = await sh(
      `install -d /etc/systemd/system/${UNIT}.d && printf '[Service]\\nExecStart=\\nExecStart=/bin/false\\n' > ${dropIn} && ` +
        `systemctl daemon-reload && systemctl restart ${UNIT}; true`,
      { timeoutMs: 60_000 },
    );
    const t0 = Date.now();
    const since = nowS();
    let props: Record<string, string> = {};
    let limited = false;
    // Each start sets up the sandbox (namespaces, credentials): a cycle takes a few seconds, not 1 s.
    while (!limited && Date.now() - t0 < 240_000) {
      await sleep(2_000);
      props = await show('Result,ActiveState,NRestarts');
      limited = props.Result === 'start-limit-hit' || /Start request repeated too quickly/.test(await journal(since));
    }
    if (limited) props = await show('Result,ActiveState,NRestarts'); // the journal line may be newer than the properties read before it
    t.ok(limited, `the start limit stopped the loop after ${props.NRestarts} restarts (Result=${props.Result})`);
    t.equal(props.ActiveState, 'failed', 'and the unit stays failed');
    figure(`crash loop: stopped by the start limit after ${fmt((Date.now() - t0) / 1000)}s`);
    r = await sh(`rm -f ${dropIn} && systemctl daemon-reload && systemctl reset-failed ${UNIT} && systemctl start ${UNIT}`, {
      timeoutMs: 120_000,
    });
    t.equal(r.code, 0, `back to normal: ${r.stderr}`);
    t.match((await ask('ping', 30_000)).text ?? '', /pong/i, 'answering again');
  });

  // Issue 14: the database URL as a credential (install.sh --database-url-file), TLS verify-full to a
  // real PostgreSQL started here (the nested systemd shares this network namespace), set up with the
  // README's SQL; the password never shows outside the credential file.
  await t.test(
    'install.sh --database-url-file: a root-only credential and drop-in, TLS to PostgreSQL, the password nowhere else',
    async (t) => {
      const pgServer = await startPostgres({ tls: true });
      database = pgServer;
      const password = `db-pw-${randomUUID()}`;
      const admin = new pg.Client({ connectionString: pgServer.url('postgres', { sslmode: 'no-verify' }) });
      await admin.connect();
      // "Running two VMs" in the README: the role, the database, nothing for anyone else.
      await admin.query(`CREATE ROLE toodles LOGIN PASSWORD '${password}'`);
      await admin.query('CREATE DATABASE toodles OWNER toodles');
      await admin.query('REVOKE ALL ON DATABASE toodles FROM PUBLIC');
      const url = `postgresql://toodles:${password}@localhost:${pgServer.port}/toodles?sslmode=verify-full&sslrootcert=/etc/ssl/toodles-db-ca.pem`;
      let r = await sh('cat > /etc/ssl/toodles-db-ca.pem && chmod 0644 /etc/ssl/toodles-db-ca.pem', {
        input: readFileSync(pgServer.caFile!, 'utf8'),
      });
      t.equal(r.code, 0, `the CA certificate, where the service can read it ${r.stderr}`);
      r = await sh(`umask 077; printf '%s\\n' '${url}' > /root/database-url; printf 'mysql://nope\\n' > /root/not-a-database-url`);
      t.equal(r.code, 0, 'the URL file (and a wrong one)');
      const exposure = async () =>
        Number(
          /Overall exposure level for toodles\.service: ([\d.]+)/.exec(
            (await sh(`systemd-analyze security ${UNIT} --no-pager`)).stdout,
          )?.[1] ?? 99,
        );
      const exposureBefore = await exposure();

      const before = await installed();
      const install = (args: string) =>
        sh(`npm_config_prefer_offline=true bash ${ROOT}/install.sh --source ${SRC} ${args}`, { timeoutMs: 600_000 });
      r = await install('--database-url-file /root/database-url');
      t.not(r.code, 0, 'refused without TOODLES_PREFERRED_INSTANCE in toodles.env');
      t.match(r.stderr, /must set TOODLES_PREFERRED_INSTANCE/, r.stderr.trim());
      r = await install('--database-url-file /root/not-a-database-url');
      t.not(r.code, 0, 'a file without a postgresql:// URL is refused');
      t.match(r.stderr, /does not hold a postgresql:\/\/ URL/, r.stderr.trim());
      t.notMatch(r.stderr, /mysql/, 'without quoting it');
      const inEnv = 'postgresql://toodles:env-secret-7f3a@localhost/toodles';
      r = await sh(`echo 'TOODLES_DATABASE_URL=${inEnv}' >> /etc/toodles/toodles.env; bash ${ROOT}/install.sh --source ${SRC}`);
      t.not(r.code, 0, 'a database URL in toodles.env stops install.sh');
      t.equal(r.stderr.trim().split('\n').length, 1, 'with one line');
      t.match(
        r.stderr,
        /toodles\.env sets TOODLES_DATABASE_URL: remove that line; the database URL belongs only in \/etc\/toodles\/database-url/,
      );
      t.notMatch(r.stdout + r.stderr, 'env-secret-7f3a', 'without showing it');
      t.equal(await installed(), before, 'nothing built, switched or restarted by the refusals');

      r = await sh(
        `sed -i '/^TOODLES_DATABASE_URL=/d' /etc/toodles/toodles.env; printf 'TOODLES_INSTANCE=vm-e2e\\nTOODLES_PREFERRED_INSTANCE=vm-e2e\\n' >> /etc/toodles/toodles.env`,
      );
      t.equal(r.code, 0);
      const since = nowS();
      r = await install('--database-url-file /root/database-url');
      t.equal(r.code, 0, 'install.sh --database-url-file exits 0');
      if (r.code !== 0) t.comment(r.stdout + r.stderr);
      t.match(r.stdout, /reused the production node_modules of /, 'the same package-lock.json as the running release: node_modules reused');
      figure(`install.sh --database-url-file, node_modules reused (build + start) took ${fmt(r.seconds)}s`);
      t.match(r.stdout, /installed the database URL as \/etc\/toodles\/database-url \(root:root 0600\)/);
      t.notMatch(r.stdout + r.stderr, password, 'install.sh never prints the URL');
      const installedFiles = await sh(`stat -c '%a %U:%G %n' /etc/toodles/database-url; cat /etc/systemd/system/${UNIT}.d/database.conf`);
      t.match(installedFiles.stdout, /^600 root:root \/etc\/toodles\/database-url$/m, 'the credential is root:root 0600');
      t.match(installedFiles.stdout, /^LoadCredential=database-url:\/etc\/toodles\/database-url$/m, 'the drop-in hands it over');
      t.match(
        (await sh(`systemctl cat ${UNIT}`)).stdout,
        /^# \/etc\/systemd\/system\/toodles\.service\.d\/database\.conf$/m,
        'systemd loaded the drop-in',
      );
      const exposureAfter = await exposure();
      figure(`systemd-analyze security toodles with the database drop-in: exposure ${exposureAfter} (before ${exposureBefore})`);
      t.ok(exposureAfter <= exposureBefore, `exposure not worse (${exposureBefore} -> ${exposureAfter})`);

      await answersPing(t);
      const st = await sh(`${toodles} status`);
      t.comment(`\n${st.stdout}`);
      t.match(st.stdout, /^instance +vm-e2e\b/m, 'toodles status names the instance');
      t.match(st.stdout, /^database +up\b/m, 'and the database is up');
      const activity = await sh(`${toodles} activity --json --command ping --since 1h`);
      t.equal(activity.code, 0, `toodles activity, run as toodles, handed the URL by /usr/local/bin/toodles ${activity.stderr}`);
      t.ok((JSON.parse(activity.stdout) as unknown[]).length >= 1, 'reads the pings from the shared database');
      t.notMatch(activity.stdout + activity.stderr, password, 'without showing the password');
      const sessions = await admin.query<{ application_name: string; ssl: boolean }>(
        "SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'toodles'",
      );
      t.ok(
        sessions.rows.length > 0 && sessions.rows.every((row) => row.application_name === 'toodles/vm-e2e' && row.ssl),
        `the daemon's sessions, all over TLS: ${JSON.stringify(sessions.rows)}`,
      );
      await admin.end();

      const logged = await sh(`journalctl --no-pager -o json --since @${Math.floor(since)}; systemctl show ${UNIT}`);
      t.ok(logged.stdout.length > 1000, 'the journal and the unit properties were read');
      t.notMatch(logged.stdout, password, 'the password is in no journal entry and no unit property (STATUS= included)');
      const files = (await sh(`grep -rlF -- '${password}' /etc/toodles /var/log/toodles /var/lib/toodles /run/toodles 2>/dev/null; true`))
        .stdout;
      t.same(files.trim().split('\n'), ['/etc/toodles/database-url'], 'and in no file but the credential');

      // The daemon refuses a URL in the environment next to the credential, without quoting either.
      const refusedAt = nowS();
      r = await sh(`echo 'TOODLES_DATABASE_URL=${inEnv}' >> /etc/toodles/toodles.env; systemctl restart ${UNIT}`, { timeoutMs: 120_000 });
      t.not(r.code, 0, 'the daemon does not start with both');
      await failedWithoutRestarts(t, '78');
      const j = await journal(refusedAt);
      const named = j.split('\n').filter((l) => l.includes('TOODLES_DATABASE_URL'));
      t.equal(named.length, 1, `one line: ${named[0]}`);
      t.match(named[0], /database-url credential/, 'naming the credential');
      t.notMatch(j, /env-secret-7f3a/, 'neither URL is in the journal');
      t.notMatch(j, password);
      r = await sh(`sed -i '/^TOODLES_DATABASE_URL=/d' /etc/toodles/toodles.env; systemctl reset-failed ${UNIT}; systemctl start ${UNIT}`, {
        timeoutMs: 120_000,
      });
      t.equal(r.code, 0, 'starts again without it');
      await answersPing(t);
    },
  );

  await t.test('install.sh --uninstall keeps config; --purge removes it', async (t) => {
    const exists = async (paths: string[]) => {
      const r = await sh(
        paths.map((p) => `if [ -e ${p} ]; then echo "present ${p}"; else echo "absent ${p}"; fi`).join('; ') +
          '; getent passwd toodles >/dev/null && echo "present user" || echo "absent user"',
      );
      return r.stdout;
    };
    const paths = [
      '/opt/toodles',
      `/etc/systemd/system/${UNIT}`,
      '/etc/toodles/toodles.env',
      '/etc/toodles/webex-bot-token',
      '/var/lib/toodles',
      '/var/log/toodles',
    ];
    let r = await sh(`bash ${ROOT}/install.sh --uninstall`, { timeoutMs: 120_000 });
    t.equal(r.code, 0, '--uninstall exits 0');
    let left = await exists(paths);
    for (const p of ['/opt/toodles', `/etc/systemd/system/${UNIT}`]) t.match(left, `absent ${p}`, `${p} removed`);
    for (const p of ['/etc/toodles/toodles.env', '/etc/toodles/webex-bot-token', '/var/lib/toodles', '/var/log/toodles', 'user'])
      t.match(left, `present ${p}`, `${p} kept`);
    t.equal((await sh('test -e /usr/local/bin/toodles; echo $?')).stdout.trim(), '1', '/usr/local/bin/toodles removed');
    t.match(r.stdout, /removed toodles-canary.timer/, 'the canary units are removed');
    const canaryLeft = await sh(
      'ls /etc/systemd/system | grep -c canary; ls /etc/toodles; systemctl list-timers --all --no-pager | grep -c toodles-canary',
    );
    t.match(canaryLeft.stdout, /^0\n/, 'no canary unit left');
    t.match(canaryLeft.stdout, /webex-canary-token/, 'the canary token is kept until --purge');
    t.match(canaryLeft.stdout, /\n0\n?$/, 'no canary timer listed');
    t.match(r.stdout, /removed the database URL/, 'the database URL and its drop-in are removed');
    t.match(
      await exists(['/etc/toodles/database-url', `/etc/systemd/system/${UNIT}.d/database.conf`]),
      /absent \/etc\/toodles\/database-url\nabsent \/etc\/systemd\/system\/toodles\.service\.d\/database\.conf/,
    );
    t.equal(latestDevice()?.deleted, true, 'the stop unregistered the device');
    r = await sh(`bash ${ROOT}/install.sh --uninstall --purge`, { timeoutMs: 120_000 });
    t.equal(r.code, 0, '--uninstall --purge exits 0');
    left = await exists(paths);
    for (const p of [...paths, 'user']) t.match(left, `absent ${p}`, `${p} purged`);
    t.equal((await sh('getent passwd toodles-build; echo $?')).stdout, '2\n', 'and the build user');
  });

  t.comment('figures: ' + figures.join('; '));
}
