/**
 * What people type (form fields, display names, words sent to the bot) comes back in replies and
 * cards shown as typed and inert: no mention (`<@all>`), link, emphasis or heading of its own. Through
 * the real SDK and the simulator; the replies are read as a CommonMark renderer reads them.
 */
import t, { type Test } from 'tap';
import { startSimulator, type SimMessage } from '../../src/simulator/index.js';
import { startHarness } from '../kit/daemon-harness.js';
import { ask, click, tempStateDir, text } from '../kit/commands.js';
import { MENTION, rendered } from '../kit/markdown.js';

/** The audit's tester field, which came back live in `testing list`. */
const AUDIT = 'Red <@all> **team** [login](http://evil.example/phish)';
const WHAT = 'quarterly test\n# not a heading\n- nor a list <@all>';
const TICKET = '[SEC-1](http://evil.example/ticket)';
const EVE = 'eve@example.com';
const EVE_NAME = 'Eve <@all> **boss** [profile](http://evil.example/eve)';
const ALICE = 'alice@example.com';
const ALICE_NAME = "Seán O'Brien-Smith Jr.";
const BOB = 'bob@example.com';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const oneLine = (s: string) => s.replace(/\s*\n+\s*/g, ' ');

function formInputs(form: SimMessage, over: Record<string, string>): Record<string, unknown> {
  return {
    ...(form.attachments?.[0]?.content as { actions: Array<{ data: Record<string, unknown> }> }).actions[0]!.data,
    tester: AUDIT,
    targets: '10.1.2.0/24',
    what: WHAT,
    end_date: day(2),
    ticket: TICKET,
    ...over,
  };
}

/** The reply shows `typed` as typed, with no markup but `markup` (the bot's own) and nothing Webex reads as a mention. */
function inert(t: Test, reply: SimMessage, typed: string[], markup: string[]): void {
  const markdown = text(reply);
  const shown = rendered(markdown);
  t.notMatch(markdown, MENTION, `no mention in ${JSON.stringify(markdown)}`);
  t.same(shown.markup, markup, `only the bot's own markup (${markup.join(', ') || 'none'})`);
  for (const s of typed) t.ok(shown.text.includes(oneLine(s)), `shows ${JSON.stringify(oneLine(s))} as typed`);
}

/** Every fact of the reply's card is shown as typed, with no markup. */
function inertCard(t: Test, reply: SimMessage, facts: Record<string, string>): void {
  const body = (reply.attachments?.[0]?.content as { body: Array<{ facts?: Array<{ title: string; value: string }> }> }).body;
  const shown = Object.fromEntries(body.flatMap((b) => b.facts ?? []).map((f) => [f.title, rendered(f.value)] as const));
  for (const [title, typed] of Object.entries(facts)) {
    t.same(shown[title], { text: typed, markup: [] }, `card fact "${title}" shown as typed, inert`);
  }
}

t.test('user-supplied text is echoed inert, and ordinary text stays readable', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  sim.addPerson({ email: ALICE, displayName: ALICE_NAME });
  sim.addPerson({ email: EVE, displayName: EVE_NAME });
  sim.addPerson({ email: BOB, displayName: 'Bob' });
  const announce = sim.groupRoom('SOC announcements', [BOB]);
  const h = await startHarness({ sim, env: { TOODLES_STATE_DIR: tempStateDir(t), TOODLES_TESTING_ROOM: announce.id } });
  t.teardown(() => h.stop());
  const alice = sim.directRoom(ALICE).id;
  const eve = sim.directRoom(EVE).id;
  const bob = sim.directRoom(BOB).id;

  await t.test("the audit's tester field: the confirmation, its card, the announcement and `testing list`", async (t) => {
    const form = await ask(sim, ALICE, alice, 'testing');
    const confirmation = await click(sim, ALICE, form, formInputs(form, {}));
    inert(t, confirmation, [AUDIT, WHAT, TICKET, ALICE_NAME], ['strong']);
    t.match(text(confirmation), `Submitted by ${ALICE_NAME}: recorded as #1.`, 'an ordinary name goes out unchanged');
    const facts = { Tester: AUDIT, 'What and why': WHAT, Ticket: TICKET, 'Registered by': ALICE_NAME };
    inertCard(t, confirmation, facts);

    const announced = await sim.waitForBotMessage((m) => m.roomId === announce.id, 5_000);
    inert(t, announced, [ALICE_NAME, AUDIT], ['strong']);

    const list = await ask(sim, BOB, bob, 'testing list');
    inert(t, list, [AUDIT, WHAT, TICKET, ALICE_NAME], ['bullet_list', 'list_item', 'strong']);
    inertCard(t, list, facts);
  });

  await t.test('a display name: "submitted by", "already recorded", "only X may end it"', async (t) => {
    const form = await ask(sim, EVE, eve, 'testing');
    const confirmation = await click(sim, EVE, form, formInputs(form, { tester: 'Blue team', ticket: '' }));
    inert(t, confirmation, [`Submitted by ${EVE_NAME}`], ['strong']);
    inertCard(t, confirmation, { 'Registered by': EVE_NAME });
    inert(t, await click(sim, EVE, form, formInputs(form, {})), [`submitted by ${EVE_NAME}`], []);
    inert(t, await ask(sim, BOB, bob, 'testing remove 2'), [`Only ${EVE_NAME}, who registered #2`], []);
    const readable = text(await ask(sim, BOB, bob, 'testing remove 1'));
    t.match(readable, `Only ${ALICE_NAME}, who registered #1`, 'an ordinary name goes out unchanged');
    inert(t, await ask(sim, EVE, eve, 'testing remove 2'), ['#2 (Blue team) ended now'], []);
  });

  await t.test('a word the bot echoes: an unknown command, a check, a bad target, a missing entry', async (t) => {
    inert(t, await ask(sim, ALICE, alice, '<@all> hello'), ["I don't know <@all>."], ['code_inline']);
    inert(t, await ask(sim, ALICE, alice, '**deploy**'), ["I don't know **deploy**."], ['code_inline']);
    inert(t, await ask(sim, ALICE, alice, 'testing check http://x.example/<@all>'), ['No: http://x.example/<@all> is not'], []);
    inert(t, await ask(sim, ALICE, alice, 'testing remove <@all>'), ['There is no entry <@all>.'], ['code_inline']);
    const form = await ask(sim, ALICE, alice, 'testing');
    const refused = await click(sim, ALICE, form, formInputs(form, { targets: '**x** [a](http://evil.example/a) <@all>' }));
    inert(t, refused, ['Not a host, IP, CIDR or URL: **x**, [a](http://evil.example/a), <@all>.'], ['code_inline']);
  });
});
