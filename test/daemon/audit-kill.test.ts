/** The audit trail and the register as the spawned daemon writes them: what was committed survives kill -9. */
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { startSimulator } from '../../src/simulator/index.js';
import { ask, click, tempStateDir, text } from '../kit/commands.js';
import { CLI, daemonEnv, spawnDaemon } from '../kit/spawn-daemon.js';
t.setTimeout(120_000);
const ALICE = 'alice@example.com';

t.test('a committed record survives kill -9; `toodles activity` reads it', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const stateDir = tempStateDir(t);
  const env = {
    WEBEX_BOT_TOKEN: sim.botToken,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_STATE_DIR: stateDir,
    TOODLES_PROXY_URL: 'direct',
  };
  const first = spawnDaemon(env);
  t.teardown(() => first.kill());
  await first.waitForLog('daemon.ready', undefined, 30_000);
  const direct = sim.directRoom(ALICE);
  t.match(text(await ask(sim, ALICE, direct.id, 'ping')), /^pong/);
  const form = await ask(sim, ALICE, direct.id, 'testing');
  const end = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const done = await click(sim, ALICE, form, {
    callback: 'testing',
    tester: 'Vendor',
    targets: '198.51.100.0/24',
    what: 'scan',
    end_date: end,
  });
  t.match(text(done), /recorded as #1/);
  const ref = (await first.waitForLog('command.done', (l) => l.command === 'testing' && l.kind === 'card' && l.outcome === 'ok')).ref;
  const exit = await first.signal('SIGKILL');
  t.equal(exit.signal, 'SIGKILL');

  const started = Date.now();
  const out = execFileSync(process.execPath, [CLI, 'activity', '--json', '--since', '1h'], {
    env: daemonEnv({ TOODLES_STATE_DIR: stateDir }),
    encoding: 'utf8',
  });
  t.comment(`toodles activity answered in ${Date.now() - started} ms`);
  const rows = JSON.parse(out) as Array<{ command: string; kind: string; outcome: string; ref: string; personEmail: string }>;
  t.match(rows, [
    { command: 'ping', kind: 'message', outcome: 'ok', personEmail: ALICE },
    { command: 'testing', kind: 'message', outcome: 'ok' },
    { command: 'testing', kind: 'card', outcome: 'ok', ref },
  ]);
  const table = execFileSync(process.execPath, [CLI, 'activity', '--command', 'ping'], {
    env: daemonEnv({ TOODLES_STATE_DIR: stateDir }),
    encoding: 'utf8',
  });
  t.match(
    table,
    /^time +person +room +command +kind +outcome +durationMs +ref\n\S+ +alice@example\.com +\S+ +ping +message +ok +\d+ +[0-9a-f]{8}\n$/,
  );

  const second = spawnDaemon(env);
  t.teardown(() => second.kill());
  await second.waitForLog('daemon.ready', undefined, 30_000);
  t.match(
    text(await ask(sim, ALICE, direct.id, 'testing list')),
    /\*\*#1\*\* Vendor: 198\.51\.100\.0\/24/,
    'the entry is still registered',
  );
  await second.signal('SIGTERM');
});
