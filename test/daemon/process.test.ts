/**
 * The daemon as a spawned process, the way systemd runs it: `node dist/src/cli.js run`, configured by
 * its environment, talking to the Webex simulator (started here, on port 0) through the real SDK,
 * with NOTIFY_SOCKET pointed at a python datagram listener standing in for systemd.
 */
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startNotifyListener, type NotifyListener } from '../kit/notify-listener.js';
import { spawnDaemon, type SpawnedDaemon } from '../kit/spawn-daemon.js';
import { sleep } from '../kit/wait.js';
t.setTimeout(180_000);

// Each test has its own simulator and daemon process, and mostly waits: three at once.
t.jobs = 3;

const WATCHDOG_USEC = 2_000_000;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

interface Run {
  sim: Simulator;
  notify: NotifyListener;
  daemon: SpawnedDaemon;
  logDir: string;
  stateDir: string;
  token: string;
  /** Every file under the log dir, path -> content. */
  logFiles(): Map<string, string>;
}

/** Simulator, notify listener, temp dirs and the spawned daemon, all cleaned up by the test's teardown. */
async function launch(
  t: Test,
  opts: { env?: Record<string, string | undefined>; before?: (sim: Simulator) => void; sim?: Simulator } = {},
): Promise<Run> {
  const sim = opts.sim ?? (await startSimulator({ port: 0 }));
  const notify = await startNotifyListener();
  const scratch = mkdtempSync(join(tmpdir(), 'toodles-proc-'));
  const logDir = join(scratch, 'log');
  const stateDir = join(scratch, 'state');
  opts.before?.(sim);
  const token = sim.botToken;
  const daemon = spawnDaemon({
    WEBEX_BOT_TOKEN: token,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    NOTIFY_SOCKET: notify.path,
    WATCHDOG_USEC: String(WATCHDOG_USEC),
    TOODLES_LOG_DIR: logDir,
    TOODLES_STATE_DIR: stateDir,
    TOODLES_PROXY_URL: 'direct',
    TOODLES_DRAIN_TIMEOUT_S: '5',
    TOODLES_LOG_LEVEL: 'debug',
    ...opts.env,
  });
  t.teardown(async () => {
    await daemon.kill();
    await notify.close();
    if (!opts.sim) await sim.stop();
    rmSync(scratch, { recursive: true, force: true });
  });
  const logFiles = () => {
    const files = new Map<string, string>();
    const walk = (dir: string) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else files.set(p, readFileSync(p, 'utf8'));
      }
    };
    walk(logDir);
    return files;
  };
  return { sim, notify, daemon, logDir, stateDir, token, logFiles };
}

/** The token, and its random part on its own (a truncated token in an error message is still a leak). */
function secretsOf(token: string): string[] {
  return [token, token.split('_')[0]!].filter((s) => s.length >= 16);
}

function assertNoToken(t: Test, run: Run): void {
  const places: Array<[string, string]> = [
    ['stdout', run.daemon.stdout()],
    ['stderr', run.daemon.stderr()],
    ['notify datagrams', run.notify.datagrams.map((d) => d.text).join('\n')],
    ...[...run.logFiles()].map(([path, text]): [string, string] => [`log file ${path}`, text]),
  ];
  t.ok(run.logFiles().size > 0, 'there are log files to check');
  for (const [where, text] of places) {
    for (const secret of secretsOf(run.token)) {
      t.notOk(text.includes(secret), `the token is not in ${where}`);
    }
  }
}

function lastJsonLine(text: string): Record<string, unknown> | undefined {
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const last = lines.at(-1);
  return last === undefined ? undefined : (JSON.parse(last) as Record<string, unknown>);
}

function rollingLog(t: Test, run: Run): string {
  const files = [...run.logFiles()].filter(([p]) => /toodles[^/]*\.log$/.test(p));
  t.ok(files.length >= 1, `a rolling log file exists under TOODLES_LOG_DIR (${files.map(([p]) => p).join(', ')})`);
  // The newest file is the one written last.
  files.sort(([a], [b]) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  return files.at(-1)?.[1] ?? '';
}

t.test('a spawned daemon: systemd notifications, a command, a clean SIGTERM, no token anywhere', async (t) => {
  const run = await launch(t);
  const { sim, notify, daemon } = run;

  await t.test('READY=1 once the bot is online, with operator-worded STATUS before it', async (t) => {
    await notify.waitFor(/^READY=1$/, 30_000);
    const readyMs = Date.now() - daemon.startedAt;
    t.comment(`time to READY: ${secs(readyMs)}`);
    const live = sim.devices().filter((d) => !d.deleted);
    t.equal(live.length, 1, 'one device registered when READY arrives');
    t.ok(
      sim.connections().some((c) => c.open && c.authorized),
      'an authorized socket is open when READY arrives',
    );

    const lines = notify.lines();
    const status = lines.filter((l) => l.startsWith('STATUS='));
    t.ok(status.length >= 3, `several STATUS updates so far: ${JSON.stringify(status)}`);
    const onlineAt = lines.findIndex((l) => /^STATUS=Online as /.test(l));
    const readyAt = lines.indexOf('READY=1');
    t.ok(onlineAt >= 0 && onlineAt < readyAt, 'STATUS says Online before READY=1 is sent');
    t.match(lines[onlineAt], /^STATUS=Online as .+: listening \(reconnects: 0\)$/);
    t.ok(
      status.some((l) => /^STATUS=Starting: signing in to Webex/.test(l)),
      'STATUS said it was signing in',
    );
    t.ok(
      status.some((l) => /^STATUS=Connecting to Webex/.test(l)),
      'STATUS said it was connecting',
    );
    for (const l of status) {
      t.match(l, /^STATUS=[A-Z][a-z]+[ ,:]/, `"${l}" reads as words`);
      t.notMatch(l, /[{}]|backing_off|undefined|\[object/, `"${l}" has no code-speak`);
    }
    t.equal(lines.filter((l) => l === 'READY=1').length, 1, 'READY=1 is sent exactly once');
  });

  await t.test('WATCHDOG=1 keeps coming at about half of WATCHDOG_USEC, never near WATCHDOG_USEC apart', async (t) => {
    const from = Date.now();
    const windowMs = 6_000;
    await sleep(windowMs);
    const pings = notify.datagrams.filter((d) => d.at >= from && /(^|\n)WATCHDOG=1(\n|$)/.test(d.text));
    const intervalMs = WATCHDOG_USEC / 2000;
    const expected = windowMs / intervalMs;
    const gaps = pings.slice(1).map((p, i) => p.at - pings[i]!.at);
    const maxGap = Math.max(...gaps);
    t.comment(`watchdog: ${pings.length} pings in ${windowMs} ms (expected ~${expected}), gaps ${gaps.join(', ')} ms`);
    t.ok(pings.length >= expected - 1 && pings.length <= expected * 2 + 1, `ping count ${pings.length} is near ${expected}`);
    // The ping interval is half of WATCHDOG_USEC; of the other half, a tick may use up to half before this fails.
    t.ok(
      maxGap < intervalMs * 1.5,
      `largest gap ${maxGap} ms: over ${WATCHDOG_USEC / 1000 - maxGap} ms to spare before systemd would kill`,
    );
  });

  await t.test('a ping posted through the simulator is answered in its thread', async (t) => {
    const room = sim.directRoom('alice@example.com');
    const asked = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'ping' });
    const reply = await sim.waitForBotMessage((m) => m.parentId === asked.id, 10_000);
    t.match(reply.markdown ?? reply.text, /^pong \(Webex round trip \d+ ms\)$/);
    t.equal(reply.roomId, room.id);
  });

  await t.test('SIGTERM while a command is being handled: the answer still goes out, then a clean exit', async (t) => {
    const room = sim.directRoom('bob@example.com');
    // The reply POST takes 2 s: the handler is in flight when the signal lands.
    sim.faults.slowRest({ path: '/messages', method: 'POST', delayMs: 2_000, count: 1 });
    const asked = sim.postMessage({ from: 'bob@example.com', roomId: room.id, text: 'ping' });
    const received = await daemon.waitForLog('command.received', (l) => l.id === asked.id, 10_000);
    t.equal(received.command, 'ping');
    t.equal(sim.repliesTo(asked.id).length, 0, 'not answered yet when SIGTERM is sent');

    const sentAt = Date.now();
    const exit = await daemon.signal('SIGTERM', 30_000);
    const stopMs = exit.at - sentAt;
    t.comment(`stop time after SIGTERM (with a 2 s in-flight reply): ${secs(stopMs)}`);
    t.equal(exit.code, 0, 'exit code 0');
    t.equal(exit.signal, null, 'exited by itself, not killed');
    t.ok(stopMs < 15_000, `stopped well inside 30 s (${secs(stopMs)})`);

    t.equal(sim.repliesTo(asked.id).length, 1, 'the in-flight ping was answered (drained)');
    t.match(sim.repliesTo(asked.id)[0]?.markdown, /^pong/);
    const events = daemon.logs().map((l) => l.event);
    t.ok(events.includes('drain.start') && events.includes('drain.done'), 'drain.start and drain.done logged');

    t.ok(notify.lines().includes('STOPPING=1'), 'STOPPING=1 was sent');
    t.ok(
      notify.lines().some((l) => /^STATUS=Stopping/.test(l)),
      'STATUS said it was stopping',
    );

    const devices = sim.devices();
    t.equal(devices.length, 1);
    t.ok(
      devices.every((d) => d.deleted),
      'the device is unregistered in the simulator',
    );
    t.ok(
      sim.connections().every((c) => !c.open),
      'no socket left open',
    );

    const file = rollingLog(t, run);
    const last = lastJsonLine(file);
    t.equal(last?.event, 'daemon.exit', 'the last line of the rolling log file is daemon.exit');
    t.equal(last?.exitCode, 0);
    for (const event of ['daemon.start', 'daemon.ready', 'command.received', 'webex.unregistered']) {
      t.ok(file.includes(`"event":"${event}"`), `the log file has ${event}`);
    }
    t.equal(lastJsonLine(daemon.stdout())?.event, 'daemon.exit', 'stdout (journald) ends with daemon.exit too');
    t.equal(daemon.stderr(), '', 'nothing on stderr');
  });

  t.test('the token appears in no output: stdout, stderr, log files, notify datagrams', async (t) => {
    assertNoToken(t, run);
  });
});

t.test('SIGINT behaves like SIGTERM', async (t) => {
  const run = await launch(t);
  await run.notify.waitFor(/^READY=1$/, 30_000);
  const sentAt = Date.now();
  const exit = await run.daemon.signal('SIGINT', 30_000);
  t.comment(`stop time after SIGINT: ${secs(exit.at - sentAt)}`);
  t.equal(exit.code, 0, 'exit code 0');
  t.ok(exit.at - sentAt < 15_000, 'well inside 30 s');
  t.ok(run.notify.lines().includes('STOPPING=1'), 'STOPPING=1 was sent');
  t.ok(
    run.sim.devices().every((d) => d.deleted),
    'the device is unregistered',
  );
  t.equal(lastJsonLine(rollingLog(t, run))?.event, 'daemon.exit', 'the log file ends with daemon.exit');
  assertNoToken(t, run);
});

t.test('a token Webex rejects: exit 77, STATUS says why, the token is never shown', async (t) => {
  await t.test('people/me answers 401 at sign-in', async (t) => {
    const run = await launch(t, { before: (sim) => sim.faults.failRest({ path: 'people/me', status: 401 }) });
    const exit = await run.daemon.waitForExit(30_000);
    t.equal(exit.code, 77, 'exit code 77');
    t.notOk(run.notify.lines().includes('READY=1'), 'never READY');
    const failed = await run.notify.waitFor(/^STATUS=Failed/, 1_000);
    t.match(failed, /token/i, `STATUS names the token as the reason: ${failed}`);
    t.ok(
      run.daemon.logs().some((l) => l.event === 'daemon.failed'),
      'daemon.failed logged',
    );
    t.equal(lastJsonLine(rollingLog(t, run))?.event, 'daemon.exit', 'the log file still ends with daemon.exit');
    assertNoToken(t, run);
  });

  await t.test('the socket is closed with 4401 once online', async (t) => {
    const run = await launch(t);
    await run.notify.waitFor(/^READY=1$/, 30_000);
    t.ok(run.sim.faults.closeSockets(4401, 'unauthorized') >= 1, 'a socket was closed with 4401');
    const exit = await run.daemon.waitForExit(30_000);
    t.equal(exit.code, 77, 'exit code 77');
    const failed = await run.notify.waitFor(/^STATUS=Failed/, 1_000);
    t.match(failed, /4401|token|refused/i, `STATUS says why: ${failed}`);
    assertNoToken(t, run);
  });

  await t.test('a token the simulator does not know at all', async (t) => {
    const bogus = `${'f00d'.repeat(12)}_PF84_00000000-0000-0000-0000-000000000000`;
    const run = await launch(t, { env: { WEBEX_BOT_TOKEN: bogus } });
    run.token = bogus;
    const exit = await run.daemon.waitForExit(45_000);
    t.equal(exit.code, 77, 'exit code 77');
    const failed = await run.notify.waitFor(/^STATUS=Failed/, 1_000).catch(() => 'no STATUS=Failed');
    t.match(failed, /token|401/i, `STATUS says why: ${failed}`);
    assertNoToken(t, run);
  });
});

t.test('SIGTERM while Webex is unreachable (backing off before the first READY): prompt exit 0', async (t) => {
  const run = await launch(t, { before: (sim) => sim.faults.failRest({ path: 'people/me', status: 503 }) });
  const backingOff = await run.notify.waitFor(/^STATUS=Cannot reach Webex yet: start failed: .*503/, 30_000);
  t.comment(backingOff);
  t.match(backingOff, /retrying in \d|failed/, 'STATUS says it is retrying, and why');
  const sentAt = Date.now();
  const exit = await run.daemon.signal('SIGTERM', 30_000);
  t.comment(`stop time while backing off: ${secs(exit.at - sentAt)}`);
  t.equal(exit.code, 0, 'exit code 0');
  t.ok(exit.at - sentAt < 10_000, 'well inside 30 s');
  t.notOk(run.notify.lines().includes('READY=1'), 'never READY');
  t.ok(run.notify.lines().includes('STOPPING=1'), 'STOPPING=1 was sent');
  t.equal(lastJsonLine(rollingLog(t, run))?.event, 'daemon.exit', 'the log file ends with daemon.exit');
  assertNoToken(t, run);
});

t.test('SIGTERM still ends the process when stdout (journald) has gone away', async (t) => {
  const run = await launch(t);
  await run.notify.waitFor(/^READY=1$/, 30_000);
  run.daemon.child.stdout?.destroy(); // the reading end goes away: the daemon's next write gets EPIPE
  const sentAt = Date.now();
  // The bound is the one every stop here gets: a daemon wedged by EPIPE never exits by itself at all.
  const exit = await run.daemon.signal('SIGTERM', 30_000);
  t.comment(
    `with stdout closed: ${exit.signal ? `still running, killed with ${exit.signal}` : `exit ${exit.code}`} after ${secs(exit.at - sentAt)}`,
  );
  t.equal(exit.signal, null, 'exited by itself (not SIGKILLed)');
  t.equal(exit.code, 0, 'exit code 0');
  t.equal(lastJsonLine(rollingLog(t, run))?.event, 'daemon.exit', 'the log file still ends with daemon.exit');
});

t.test('an unhandled rejection inside the SDK does not kill the daemon: it rebuilds the SDK and keeps answering', async (t) => {
  const run = await launch(t);
  const { sim, daemon } = run;
  await run.notify.waitFor(/^READY=1$/, 30_000);
  // A frame without an id makes the SDK's ack reject with nobody listening; Node 20 exits on that by default.
  t.ok(sim.faults.malformedFrame('no-id') > 0, 'the bad frame went out');
  const rejection = await daemon.waitForLog('process.unhandled_rejection', undefined, 10_000);
  t.comment(`caught: ${String(rejection.err)}`);
  await daemon.waitForLog('webex.sdk_renew', undefined, 5_000);
  const room = sim.directRoom('dave@example.com');
  // Graceful reconnects move the bot onto the fresh SDK instance; until then the old socket serves.
  const asked = sim.postMessage({ from: 'dave@example.com', roomId: room.id, text: 'ping' });
  await sim.waitForBotMessage((m) => m.parentId === asked.id, 10_000);
  t.equal(daemon.child.exitCode, null, 'still running');
  const exit = await daemon.signal('SIGTERM', 30_000);
  t.equal(exit.code, 0);
});

/** A tiny tmpfs (root only): the way to make a real ENOSPC. Unmounted by the test's teardown. */
function tinyTmpfs(t: Test): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'toodles-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'toodles-full', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  t.teardown(() => {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Fills the file system under `dir` until a write fails with ENOSPC; returns the filler file. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (;;) writeSync(fd, Buffer.alloc(4096, 1));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return filler;
}

t.test('a full disk: still answering, one warning a minute, STATUS says so; a start on a full disk answers too', async (t) => {
  const full = tinyTmpfs(t);
  if (!full) {
    t.comment('skipped: needs root and tmpfs to make a real ENOSPC');
    return;
  }
  const run = await launch(t, { env: { TOODLES_STATE_DIR: full } });
  const { sim, daemon, notify } = run;
  await notify.waitFor(/^READY=1$/, 30_000);
  const room = sim.directRoom('erin@example.com');
  const ping = async () => {
    const asked = sim.postMessage({ from: 'erin@example.com', roomId: room.id, text: 'ping' });
    return sim.waitForBotMessage((m) => m.parentId === asked.id, 10_000);
  };
  await ping();

  // The record must hold no partly used page an append could still go into: the bot's own reply may
  // arrive (and be recorded) while we fill, so go again until the record is empty.
  const record = join(full, 'seen-activities.log');
  let filler: string;
  do {
    rmSync(join(full, 'filler'), { force: true });
    rmSync(record, { force: true });
    filler = fill(full);
  } while (existsSync(record) && statSync(record).size > 0);
  t.match((await ping()).markdown, /^pong/, 'a ping is answered with the disk full');
  const warned = await daemon.waitForLog('state.write_failed', undefined, 5_000);
  t.equal(warned.level, 40, 'logged at warn');
  t.match(String(warned.err), /ENOSPC/, `says why: ${String(warned.err)}`);
  const status = await notify.waitFor(/^STATUS=Online.*cannot save handled message ids/, 5_000);
  t.comment(status);
  for (let i = 0; i < 3; i++) t.match((await ping()).markdown, /^pong/, `and the next one (${i + 1})`);
  t.equal(daemon.logs().filter((l) => l.event === 'state.write_failed').length, 1, 'one warning within the minute, not one per message');
  t.notOk(
    daemon.logs().some((l) => l.event === 'activity.failed' || l.event === 'activity.record_failed'),
    'no activity failed',
  );

  rmSync(filler);
  t.match((await ping()).markdown, /^pong/, 'answering once there is space again');
  await daemon.waitForLog('state.write_recovered', undefined, 5_000);
  const statuses = notify.lines().filter((l) => l.startsWith('STATUS='));
  t.match(statuses.at(-1), /^STATUS=Online as .+: listening \(reconnects: 0\)$/, 'STATUS is plain Online again');
  t.ok(readFileSync(join(full, 'seen-activities.log'), 'utf8').split('\n').length >= 6, 'the record on disk has every id again');
  t.equal((await daemon.signal('SIGTERM', 30_000)).code, 0);

  // A full disk at start (state and log files on it) is no configuration error: refusing to start
  // would leave the bot deaf until someone frees space. It starts, says so, and answers.
  const logs = join(full, 'logs');
  mkdirSync(logs);
  fill(full);
  const again = await launch(t, { sim, env: { TOODLES_STATE_DIR: full, TOODLES_LOG_DIR: logs } });
  await again.notify.waitFor(/^READY=1$/, 30_000);
  t.match(again.daemon.stderr(), /^toodles: warning: TOODLES_LOG_DIR: .* is full \(ENOSPC/m, 'the full log directory is named on stderr');
  t.match(again.daemon.stderr(), /^toodles: warning: TOODLES_STATE_DIR: .* is full \(ENOSPC/m, 'and the full state directory');
  t.match((await ping()).markdown, /^pong/, 'a ping is answered after a start on a full disk');
  const filesFailed = await again.daemon.waitForLog('log.files_failed', undefined, 10_000);
  t.match(String(filesFailed.err), /ENOSPC/, 'the log files are given up (log.files_failed), the bot stays up');
  t.equal(again.daemon.child.exitCode, null, 'still running');
  t.match((await ping()).markdown, /^pong/, 'and answering');
  t.equal((await again.daemon.signal('SIGTERM', 30_000)).code, 0, 'stops cleanly (before the tmpfs goes)');
});
