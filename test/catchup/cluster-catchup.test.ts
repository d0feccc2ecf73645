import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MARK_FILE } from '../../src/catchup/mark.js';
import { answerCounts, startCluster } from '../kit/cluster.js';
import { ask, tempStateDir } from '../kit/commands.js';
import { startPostgres } from '../kit/postgres.js';
import { exitAfterTests } from '../kit/sim-bot.js';
import { eventually } from '../kit/wait.js';

exitAfterTests(t);
const pgServer = await startPostgres();
t.teardown(() => pgServer.close());

t.test('two instances on one database, both stopped and restarted: each missed message answered once', async (t) => {
  const dirs: Record<string, string> = { a: tempStateDir(t), b: tempStateDir(t) };
  const c = await startCluster({
    pg: pgServer,
    names: ['a', 'b'],
    preferred: 'a',
    env: (name) => ({ TOODLES_STATE_DIR: dirs[name] ?? '' }),
  });
  t.teardown(() => c.stop());
  const { sim } = c;
  await ask(sim, 'alice@example.com', sim.directRoom('alice@example.com').id, 'ping');
  for (const dir of Object.values(dirs)) await eventually('the heard-through mark', () => existsSync(join(dir, MARK_FILE)));
  await Promise.all([...c.members.values()].map((h) => h.stop()));

  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const email = `person-${i}@example.com`;
    ids.push(sim.postMessage({ from: email, roomId: sim.directRoom(email).id, text: 'ping' }).id);
  }
  const team = sim.groupRoom('team', ['carol@example.com', 'dan@example.com']);
  for (let i = 0; i < 4; i++) ids.push(sim.postMessage({ from: 'carol@example.com', roomId: team.id, text: 'ping' }).id);
  const chatter = sim.postMessage({ from: 'dan@example.com', roomId: team.id, text: 'lunch?', mentionBot: false });

  const [a, b] = await Promise.all([c.add('a'), c.add('b')]);
  const done = await Promise.all([a, b].map((h) => h.waitForLog('catchup.done', undefined, 30_000)));
  t.same(answerCounts(sim, ids), { 1: ids.length }, `all ${ids.length} answered, each exactly once`);
  t.equal(sim.repliesTo(chatter.id).length, 0, 'the unmentioned message never');
  t.equal(
    done.reduce((n, d) => n + Number(d.answered), 0),
    2 * ids.length,
    'both instances took every message to a claim; the claims let one answer',
  );
});
