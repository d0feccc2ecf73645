/**
 * install.sh under a real systemd (test/_systemd/kit.ts): the first install, upgrades that reuse the
 * running release's node_modules, rollbacks and the switch back from a release that does not start,
 * the refusals before anything changes, a failing build, a dependency whose install script attacks
 * (issue 21), the canary timer, the database URL as a credential (issue 14), and uninstall.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../kit/postgres.js';
import { sleep } from '../kit/wait.js';
import { ATTEMPTS, hostileSource, SD_NOTIFY_PROOF } from './hostile-dependency.js';
import { fmt, installFirst, nowS, pollUntil, ROOT, SRC, UNIT, withNestedSystemd, type Rig } from './kit.js';

await withNestedSystemd(async (rig: Rig) => {
  const { sim: s, sh, show, journal, ask, answersPing, failedWithoutRestarts, latestDevice, figure } = rig;
  let database: TestPostgres | undefined; // the database URL's block starts it; it outlives that block, like the daemon using it
  t.teardown(() => database?.close());

  await t.test('install.sh installs, starts after READY and prints status', async (t) => {
    const r = await installFirst(t, rig);
    const m = /returned after READY=1, ([\d.]+)s/.exec(r.stdout);
    t.ok(m, 'install.sh reports the start after READY');
    if (m) figure(`install.sh: systemctl start -> READY ${m[1]}s`);

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
  /** `cmd`'s output, read again every 200 ms until it matches `pattern`; throws naming `what` once timeoutMs is over. */
  const waitFor = async (what: string, cmd: string, pattern: RegExp, timeoutMs: number) => {
    const out = await pollUntil(
      async () => (await sh(cmd)).stdout,
      (o) => pattern.test(o),
      timeoutMs,
    );
    if (!pattern.test(out)) throw new Error(`${what}: no ${pattern} within ${timeoutMs} ms (last: ${out})`);
    return out;
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

  const toodles = 'toodles'; // /usr/local/bin/toodles, put on the PATH by install.sh
  const canaryIdentity = s.addIdentity({ email: 'canary@webex.bot', displayName: 'Canary' });

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
    const fresh = await pollUntil(
      async () => s.devices().find((d) => !d.deleted && !deaf.includes(d.id)),
      (d) => d !== undefined,
      10_000,
      100,
    );
    t.ok(fresh, 'the daemon registered a new device');
    const heal = await sh(`journalctl -u ${UNIT} --no-pager -o cat --since @${Math.floor(since)} EVENT=daemon.heal ACTION=rebuild`);
    t.match(heal.stdout, /\S/, 'the daemon logged the rebuild (EVENT=daemon.heal ACTION=rebuild)');
    t.match((await sh(`${toodles} status`)).stdout, /^healing +rebuild /m, 'toodles status shows the rebuild');

    s.faults.deafDevice(); // Webex is deaf to the new device too: the rebuild was not enough
    const before = await show('MainPID,NRestarts');
    t.not((await canary()).code, 0, 'third run fails and asks for a restart');
    const after = await rig.showWhen(
      'MainPID,NRestarts,ActiveState,SubState',
      (p) => Number(p.NRestarts) > Number(before.NRestarts) && p.SubState === 'running',
      30_000,
    );
    t.ok(Number(after.NRestarts) > Number(before.NRestarts), `systemd restarted it (NRestarts ${before.NRestarts} -> ${after.NRestarts})`);
    t.not(after.MainPID, before.MainPID, 'a new main process');
    t.match(await sh(`journalctl -u ${UNIT} --no-pager --since @${Math.floor(since)}`).then((r) => r.stdout), /status=75/, 'it exited 75');
    s.faults.clear();
    t.equal((await canary()).code, 0, 'the canary passes against the restarted daemon');
    await answersPing(t);
    await sh('systemctl start toodles-canary.timer');
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
});
