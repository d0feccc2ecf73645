/**
 * No orphan devices (issue 11): the daemon as a spawned process, `kill -9`-ed right after it comes
 * online, ten times on one state directory. The device is recorded there and refreshed by the next
 * process, so Webex ends up with exactly one, and each restart goes online as a cold start does.
 * A recorded device Webex has forgotten (404) is replaced by a new one, without a crash or a loop.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { spawnDaemon, type SpawnedDaemon } from '../kit/spawn-daemon.js';
t.setTimeout(240_000);

// Each test has its own simulator, state directory and daemon processes: both at once.
t.jobs = 2;

const ALICE = 'alice@example.com';
const live = (sim: Simulator) => sim.devices().filter((d) => !d.deleted);

/** The connection states a daemon went through, in order. */
const states = (d: SpawnedDaemon) =>
  d
    .logs()
    .filter((l) => l.event === 'connection.state')
    .map((l) => String(l.to));

/** Starts the daemon on the state dir; resolves once it answered a ping, with the time that took. */
async function startAndAnswer(sim: Simulator, stateDir: string): Promise<{ d: SpawnedDaemon; ms: number }> {
  const d = spawnDaemon({
    WEBEX_BOT_TOKEN: sim.botToken,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_STATE_DIR: stateDir,
  });
  await d.waitForLog('daemon.ready', undefined, 30_000);
  const room = sim.directRoom(ALICE);
  const asked = sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
  await sim.waitForBotMessage((m) => m.parentId === asked.id, 15_000);
  return { d, ms: Date.now() - d.startedAt };
}

/** A simulator and an empty state dir, both gone after the test. */
async function simAndStateDir(t: Test): Promise<{ sim: Simulator; stateDir: string }> {
  const sim = await startSimulator({ port: 0 });
  const stateDir = mkdtempSync(join(tmpdir(), 'toodles-kill9-'));
  t.teardown(async () => {
    await sim.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });
  return { sim, stateDir };
}

t.test('ten kill -9 and restarts on one state dir leave exactly one device at Webex', async (t) => {
  const { sim, stateDir } = await simAndStateDir(t);
  const cold = await startAndAnswer(sim, stateDir);
  const firstDevice = live(sim)[0]!.id;
  t.comment(`cold start: answering ${cold.ms} ms after spawn`);
  await cold.d.signal('SIGKILL');
  const coldStates = states(cold.d);
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const run = await startAndAnswer(sim, stateDir);
    times.push(run.ms);
    t.ok(
      run.d.logs().some((l) => l.event === 'webex.device' && l.reused === true),
      `restart ${i + 1} refreshed the recorded device`,
    );
    // What would make a restart slower than a cold start is a wait: a retry, a backoff, a reconnect.
    t.same(states(run.d), coldStates, `restart ${i + 1} went online the way the cold start did: ${coldStates.join(' -> ')}`);
    await run.d.signal('SIGKILL');
  }
  t.comment(`restarts: answering ${times.join(', ')} ms after spawn`);
  t.equal(live(sim).length, 1, 'exactly one live device at Webex');
  t.equal(sim.devices().length, 1, 'never a second registration');
  t.equal(live(sim)[0]!.id, firstDevice, 'the first one, refreshed');
  // Wall-clock time swings with the machine's load between starts: the states above are the proof,
  // this bound only catches a wait as long as a timeout (5 s and up).
  const sorted = [...times].sort((a, b) => a - b);
  t.ok(sorted[5]! <= cold.ms * 2 + 5_000, `restarts answer about as fast as a cold start (median ${sorted[5]} ms, cold ${cold.ms} ms)`);

  // A clean stop deletes the device and the record with it.
  const last = await startAndAnswer(sim, stateDir);
  await last.d.signal('SIGTERM');
  t.equal(live(sim).length, 0, 'a clean stop unregisters the device');
  t.throws(() => readFileSync(join(stateDir, 'webex-device.json')), 'and removes the record');
});

t.test('a recorded device Webex no longer knows (404) is replaced, once', async (t) => {
  const { sim, stateDir } = await simAndStateDir(t);
  const first = await startAndAnswer(sim, stateDir);
  await first.d.signal('SIGKILL');
  const gone = live(sim)[0]!;
  // Webex forgot it (expired, or deleted by an admin): the refresh gets 404.
  const res = await fetch(gone.url, { method: 'DELETE', headers: { authorization: `Bearer ${sim.botToken}` } });
  t.equal(res.status, 204, 'the recorded device is gone at Webex');
  const next = await startAndAnswer(sim, stateDir);
  t.equal(live(sim).length, 1, 'one live device again');
  t.not(live(sim)[0]!.id, gone.id, 'a new one');
  const record = JSON.parse(readFileSync(join(stateDir, 'webex-device.json'), 'utf8')) as { url: string };
  t.equal(record.url, live(sim)[0]!.url, 'the new one is recorded');
  t.equal(next.d.logs().filter((l) => l.event === 'webex.device').length, 1, 'one registration, no loop');
  await next.d.signal('SIGTERM');
});
