// Two daemons on one simulator and one real PostgreSQL: the audit trail, the submissions and the
// testing register are the database's, so a card submitted to both instances at once is recorded once.
// Until the cluster's claims decide which instance answers, each instance handles every activity:
// the assertions hold either way (exactly one "Submitted", every other answer "Already recorded").
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startSimulator, type SimMessage } from '../../src/simulator/index.js';
import { ask, auditFrom, tempStateDir, text, textFormCommand } from '../kit/commands.js';
import { FAST, startHarness, type Harness } from '../kit/daemon-harness.js';
import { PG_PASSWORD, startPostgres } from '../kit/postgres.js';
import { sleep } from '../kit/wait.js';

const ALICE = 'alice@example.com';
const pgServer = await startPostgres();
t.teardown(() => pgServer.close());

/** A form whose submit takes a while, so the other instance's submit arrives while it runs. */
let submits = 0;
const slow = textFormCommand('slow', 'a form that takes half a second to keep', async (ctx) => {
  submits += 1;
  await sleep(500);
  return { recordedAs: `slow #${submits}`, reply: { markdown: `kept "${ctx.inputs.text}"` } };
});

/** Submits the card, then returns the bot's answers in its thread once they stop coming (at least `min`; forms left out). */
async function submitted(h: Harness, card: SimMessage, inputs: Array<Record<string, unknown>>, min: number): Promise<string[]> {
  const thread = card.parentId ?? card.id;
  const before = new Set(h.sim.botMessages().map((m) => m.id));
  for (const i of inputs) h.sim.submitCard({ from: ALICE, cardMessageId: card.id, inputs: i });
  const answers = () =>
    h.sim
      .botMessages()
      .filter((m) => !before.has(m.id) && m.parentId === thread && text(m) !== text(card))
      .map(text);
  const end = Date.now() + 15_000;
  let last = -1;
  for (;;) {
    await sleep(1_000);
    const count = answers().length;
    if ((count >= min && count === last) || Date.now() > end) return answers();
    last = count;
  }
}

t.test('two instances, one database', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const url = pgServer.url(await pgServer.createDatabase());
  const env = (instance: string) => ({ TOODLES_DATABASE_URL: url, TOODLES_INSTANCE: instance, TOODLES_PREFERRED_INSTANCE: 'vm1' });
  const tuning = { ...FAST, extraCommands: [slow] };
  const [one, two] = await Promise.all([startHarness({ sim, env: env('vm1'), tuning }), startHarness({ sim, env: env('vm2'), tuning })]);
  t.teardown(async () => {
    await one.stop();
    await two.stop();
  });
  const direct = sim.directRoom(ALICE);
  // Under load an instance may find the other's schema step still running past its bound, or the
  // database slow to answer: it then makes (finds) the schema at its next use instead. Either way the
  // step is applied once. So wait for the first attempt to end, whichever way, within the schema
  // step's own bound (migrate's 30 s): the suite's other PostgreSQL tests load the server.
  const attemptEnded = ['storage.open', 'storage.open_failed', 'database.down'];
  await Promise.any([one, two].flatMap((h) => attemptEnded.map((event) => h.waitForLog(event, undefined, 30_000))));

  await t.test('a form submitted once and twice at once: one entry in the register', async (t) => {
    const form = await ask(sim, ALICE, direct.id, 'testing');
    const end = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const inputs = { callback: 'testing', tester: 'Red team', targets: '10.9.0.0/16', what: 'test', end_date: end };
    const answers = await submitted(one, form, [inputs, { ...inputs, tester: 'Someone else' }], 2);
    t.equal(answers.filter((a) => a.startsWith('Submitted by alice: recorded as #1.')).length, 1, 'one submit went through');
    t.same(
      answers.filter((a) => !a.startsWith('Submitted')),
      answers.slice(1).map(() => 'Already recorded as #1 (submitted by alice); nothing changed.'),
      'every other is answered from it',
    );
    const list = text(await ask(sim, ALICE, direct.id, 'testing list'));
    // Each submit is its own activity, claimed by either instance: either may be the one that went through.
    t.match(list, /\*\*#1\*\* (Red team|Someone else): 10\.9\.0\.0\/16/);
    t.notMatch(list, /#2/, 'one entry');
    t.notOk(/Red team/.test(list) && /Someone else/.test(list), 'of one of the two submits');
  });

  await t.test("the other instance's submit arrives while the first runs: it waits and answers from the record", async (t) => {
    const form = await ask(sim, ALICE, direct.id, 'slow');
    submits = 0;
    // One answer when the claims give the submit to one instance, two when both handled it.
    const answers = await submitted(one, form, [{ callback: 'slow', text: 'hi' }], 1);
    t.equal(submits, 1, "the form's submit ran once in the two instances");
    t.equal(answers.filter((a) => a.startsWith('Submitted by alice: recorded as slow #1.')).length, 1);
    t.ok(
      answers.slice(1).every((a) => a === 'Already recorded as slow #1 (submitted by alice); nothing changed.'),
      answers.join(' | '),
    );
  });

  await t.test('toodles activity reads the shared audit trail when a database URL is configured', async (t) => {
    const rows = await auditFrom({ TOODLES_DATABASE_URL: url }, ['--json', '--command', 'slow']);
    t.ok(
      rows.some((r) => r.kind === 'card' && r.outcome === 'ok'),
      'the submit that went through',
    );
    t.ok(
      rows.some((r) => r.kind === 'message' && r.outcome === 'ok'),
      'the command that sent the form',
    );
    t.ok(rows.every((r) => r.personEmail === ALICE));
    const credentials = tempStateDir(t);
    writeFileSync(join(credentials, 'database-url'), `${url}\n`, { mode: 0o600 });
    t.same(
      await auditFrom({ CREDENTIALS_DIRECTORY: credentials }, ['--json', '--command', 'slow']),
      rows,
      'from the database-url credential too',
    );
    const empty = pgServer.url(await pgServer.createDatabase());
    await t.rejects(auditFrom({ TOODLES_DATABASE_URL: empty }, ['--json']), /no audit trail in that database yet/);
  });

  await t.test('the database stopped: the register says so clearly, other commands answered, back after', async (t) => {
    await pgServer.stop();
    t.teardown(() => pgServer.start());
    const answer = text(await ask(sim, ALICE, direct.id, 'testing list'));
    t.match(answer, /^Sorry, `testing` cannot reach its records right now; try again in a minute\. Reference: [0-9a-f]{8}$/);
    t.match(text(await ask(sim, ALICE, direct.id, 'ping')), /^pong/, 'ping needs no database');
    const form = await ask(sim, ALICE, direct.id, 'testing');
    const inputs = {
      callback: 'testing',
      tester: 'Blue team',
      targets: '10.8.0.1',
      what: 'test',
      end_date: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
    };
    const refused = await submitted(one, form, [inputs], 1);
    t.match(refused[0], /^Sorry, `testing` cannot reach its records right now/, 'a submit: the same answer');
    t.ok(
      refused.every((a) => !a.startsWith('Submitted')),
      'nothing recorded',
    );
    await one.waitForLog('storage.failed', (l) => l.op === 'release submission');
    t.ok(
      one.logs.some((l) => l.event === 'storage.failed' && l.op === 'claim submission'),
      'the claim could not be made: the submit ran on local memory',
    );
    const failed = await one.waitForLog('storage.failed', (l) => l.op === 'record activity');
    t.match(failed.err, /unavailable/);
    const why = await auditFrom({ TOODLES_DATABASE_URL: url }, ['--json']).then(
      (rows) => JSON.stringify(rows),
      (e: Error) => e.message,
    );
    t.match(why, /exited 1: toodles activity: storage unavailable: database unavailable: /, 'toodles activity says why');
    t.notOk(why.includes(PG_PASSWORD), 'never with the password');
    t.notOk(JSON.stringify([...one.logs, ...two.logs]).includes(PG_PASSWORD), "nor the daemons' logs");
    await pgServer.start();
    await Promise.all([one, two].map((h) => h.waitForLog('database.up')));
    t.match(text(await ask(sim, ALICE, direct.id, 'testing list')), /\*\*#1\*\* (Red team|Someone else)/, 'the register is back');
    const again = await submitted(one, form, [inputs], 1);
    t.equal(
      again.filter((a) => a.startsWith('Submitted by alice: recorded as #2.')).length,
      1,
      'the form refused during the outage goes through now',
    );
    t.equal(one.daemon.status().state, 'online');
    t.equal(two.daemon.status().state, 'online');
  });

  await t.test('both started at once: one schema', async (t) => {
    const applied = [one, two].flatMap((h) => h.logs.filter((l) => l.event === 'storage.open').flatMap((l) => l.applied as string[]));
    t.same(applied, ['storage-1', 'storage-2'], 'the schema steps applied by exactly one instance');
  });
});
