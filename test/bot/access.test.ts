import t from 'tap';
import { startHarness } from '../kit/daemon-harness.js';
import { ask, audit, auditWhen, click, tempStateDir, text } from '../kit/commands.js';
import { startSimulator } from '../../src/simulator/index.js';

const ALICE = 'alice@example.com'; // allowed by domain
const BOSS = 'boss@partner.org'; // allowed by address
const MALLORY = 'mallory@evil.test'; // nobody let her in
const PINGER = 'pinger@webex.bot'; // a sibling bot, allowed by address
const STRANGER_BOT = 'otherbot@webex.bot';
const DOMAIN_BOT = 'helper@example.com'; // a bot in the allowed domain: not enough
const REFUSAL = /^Sorry, I can't help you with that\.$/;

t.test('who may use the bot: people, domains, rooms and bots, for messages and card submits', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  sim.addPerson({ email: PINGER, displayName: 'Pinger', type: 'bot' });
  sim.addPerson({ email: STRANGER_BOT, displayName: 'Other bot', type: 'bot' });
  sim.addPerson({ email: DOMAIN_BOT, displayName: 'Helper bot', type: 'bot' });
  const team = sim.groupRoom('SOC', [ALICE, MALLORY, BOSS]);
  const elsewhere = sim.groupRoom('Coffee', [ALICE]);
  const stateDir = tempStateDir(t);
  const h = await startHarness({
    sim,
    env: {
      TOODLES_ALLOWED_EMAILS: `${BOSS.toUpperCase()}, ${PINGER}`,
      TOODLES_ALLOWED_DOMAINS: 'example.com',
      TOODLES_ALLOWED_ROOMS: team.id,
      TOODLES_STATE_DIR: stateDir,
    },
  });
  t.teardown(() => h.stop());
  t.notOk(
    h.logs.some((l) => l.event === 'access.open'),
    'no open-access warning when rules are set',
  );

  await t.test('allowed by domain, by address, in an allowed space, and an allowed bot', async (t) => {
    t.match(text(await ask(sim, ALICE, sim.directRoom(ALICE).id, 'ping')), /^pong/);
    t.match(text(await ask(sim, BOSS, sim.directRoom(BOSS).id, 'ping')), /^pong/);
    t.match(text(await ask(sim, ALICE, team.id, 'ping')), /^pong/);
    t.match(text(await ask(sim, PINGER, sim.directRoom(PINGER).id, 'ping')), /^pong/);
  });

  await t.test('refused: a person not listed, and an allowed person in a space not listed', async (t) => {
    const direct = sim.directRoom(MALLORY);
    const refused = await ask(sim, MALLORY, direct.id, 'testing list');
    t.match(text(refused), REFUSAL, 'one short refusal that reveals nothing');
    const denied = await h.waitForLog('access.denied', (l) => l.person === MALLORY);
    t.match(denied, { room: direct.id, command: 'testing', kind: 'message', reason: 'not allowed' });
    t.match(text(await ask(sim, MALLORY, team.id, 'ping')), REFUSAL);
    t.match(text(await ask(sim, ALICE, elsewhere.id, 'ping')), REFUSAL);
    t.ok(h.logs.some((l) => l.event === 'access.denied' && l.person === ALICE && l.room === elsewhere.id));
  });

  await t.test('other bots are ignored, even from an allowed domain', async (t) => {
    for (const bot of [STRANGER_BOT, DOMAIN_BOT]) {
      const asked = sim.postMessage({ from: bot, roomId: sim.directRoom(bot).id, text: 'ping' });
      await h.waitForLog('access.denied', (l) => l.person === bot && l.reason === 'another bot');
      await ask(sim, ALICE, sim.directRoom(ALICE).id, 'ping'); // traffic after it has flowed
      t.equal(sim.repliesTo(asked.id).length, 0, `${bot}: no answer at all`);
    }
  });

  await t.test('card submits are judged on the person who clicked', async (t) => {
    const card = await ask(sim, ALICE, team.id, 'status');
    t.ok(card.attachments?.length, 'a card, sent to Alice');
    const refused = await click(sim, MALLORY, card, { callback: 'status.refresh' });
    t.match(text(refused), REFUSAL, 'Mallory clicking it is refused');
    t.equal(refused.parentId, card.parentId, 'in the card thread');
    t.ok(h.logs.some((l) => l.event === 'access.denied' && l.person === MALLORY && l.kind === 'card'));
    const refreshed = await click(sim, BOSS, card, { callback: 'status.refresh' });
    t.match(text(refreshed), /\*\*Connection\*\*: online/, 'the boss clicking it gets the refresh');
  });

  await t.test('every run and submit is in the audit trail, allowed or not', async (t) => {
    const rows = await auditWhen(stateDir, (r) => r.some((x) => x.personEmail === BOSS && x.kind === 'card'));
    const has = (email: string, command: string, kind: string, outcome: string) =>
      t.ok(
        rows.some(
          (r) =>
            r.personEmail === email && r.command === command && r.kind === kind && r.outcome === outcome && /^[0-9a-f]{8}$/.test(r.ref),
        ),
        `${email} ${command} ${kind} ${outcome}`,
      );
    has(ALICE, 'ping', 'message', 'ok');
    has(BOSS, 'ping', 'message', 'ok');
    has(PINGER, 'ping', 'message', 'ok');
    has(MALLORY, 'testing', 'message', 'denied');
    has(MALLORY, 'ping', 'message', 'denied');
    has(STRANGER_BOT, 'ping', 'message', 'denied');
    has(MALLORY, 'status', 'card', 'denied');
    has(BOSS, 'status', 'card', 'ok');
    t.ok(rows.every((r) => r.durationMs >= 0 && r.roomId));
    t.ok((await audit(stateDir, '--person', MALLORY)).every((r) => r.outcome === 'denied'));
  });
});

t.test('with no rule set, everyone may, and the start-up log warns; a command limited to rooms stays there', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const soc = sim.groupRoom('SOC', [ALICE]);
  const h = await startHarness({ sim, env: { TOODLES_TESTING_ROOMS: soc.id } });
  t.teardown(() => h.stop());
  t.ok(h.logs.some((l) => l.event === 'access.open' && l.level === 40));
  const anyone = 'anyone@anywhere.test';
  t.match(text(await ask(sim, anyone, sim.directRoom(anyone).id, 'ping')), /^pong/);
  t.equal(text(await ask(sim, anyone, sim.directRoom(anyone).id, 'testing list')), '`testing` is not available in this space.');
  t.ok(h.logs.some((l) => l.event === 'access.denied' && l.reason === 'command limited to other spaces' && l.command === 'testing'));
  t.match(text(await ask(sim, ALICE, soc.id, 'testing list')), /^No approved testing/);
  const card = await ask(sim, ALICE, soc.id, 'status');
  t.match(
    text(await click(sim, ALICE, card, { callback: 'status.toString' })),
    /not one I can act on/,
    'a callback naming an inherited property',
  );
});
