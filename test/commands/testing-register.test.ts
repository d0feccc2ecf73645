import t from 'tap';
import { startHarness } from '../kit/daemon-harness.js';
import { ask, auditWhen, click, tempStateDir, text } from '../kit/commands.js';
import { startSimulator, type SimMessage } from '../../src/simulator/index.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const ADMIN = 'admin@example.com';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const inputs = (form: SimMessage, over: Record<string, unknown> = {}) => ({
  // What Webex sends back: the inputs and the button's data, merged.
  ...(form.attachments?.[0]?.content as { actions: Array<{ data: Record<string, unknown> }> }).actions[0]!.data,
  tester: 'Red team',
  targets: '10.1.2.0/24\nscanner.vendor.example, https://app.example.com/login',
  what: 'quarterly external test',
  start_date: '',
  start_time: '',
  end_date: day(2),
  end_time: '',
  ticket: 'SEC-42',
  ...over,
});

t.test('the approved-testing register, through the real SDK', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const soc = sim.groupRoom('SOC', [ALICE, BOB, ADMIN]);
  const announce = sim.groupRoom('SOC announcements', [ADMIN]);
  const stateDir = tempStateDir(t);
  const env = { TOODLES_ADMIN_EMAILS: ADMIN, TOODLES_TESTING_ROOM: announce.id, TOODLES_STATE_DIR: stateDir };
  let h = await startHarness({ sim, env });
  t.teardown(() => h.stop());
  const direct = sim.directRoom(ALICE);

  const form = await ask(sim, ALICE, direct.id, 'testing');
  const content = form.attachments?.[0]?.content as { body: Array<{ id?: string; isRequired?: boolean }> };
  t.same(
    content.body.filter((b) => b.isRequired).map((b) => b.id),
    ['tester', 'targets', 'what', 'end_date'],
    'the form marks its required inputs',
  );

  await t.test('validation errors are answered; nothing is stored and the form stays', async (t) => {
    const missing = await click(sim, ALICE, form, inputs(form, { targets: '  ', what: undefined, end_date: '' }));
    t.match(text(missing), /^Please fill in: \*\*targets\*\*, \*\*what\*\*, \*\*end_date\*\*\. Nothing was recorded\.$/);
    t.equal(missing.parentId, form.parentId, 'answered in the form thread');
    t.match(
      text(await click(sim, ALICE, form, inputs(form, { targets: '10.1.2.0/24 bad_host!' }))),
      /Not a host, IP, CIDR or URL: `bad_host!`/,
    );
    t.match(text(await click(sim, ALICE, form, inputs(form, { start_date: day(3), end_date: day(2) }))), /The end must be after the start/);
    t.match(text(await click(sim, ALICE, form, inputs(form, { end_date: day(40) }))), /at most 30 days/);
    t.match(text(await click(sim, ALICE, form, inputs(form, { tester: { nested: true } }))), /That form came back damaged \(tester\)/);
    t.notOk(sim.botMessages().find((m) => m.id === form.id)?.deleted, 'the form is still there');
    t.match(text(await ask(sim, ALICE, direct.id, 'testing list')), /No approved testing/);
  });

  let entryCard: SimMessage;
  await t.test('a valid submit stores entry #1, removes the form, confirms with a card and announces it', async (t) => {
    entryCard = await click(sim, ALICE, form, inputs(form, { extra_field: 'ignored' }));
    t.match(
      text(entryCard),
      /^Submitted by alice: recorded as #1\.\n\n\*\*#1\*\* Red team: 10\.1\.2\.0\/24, scanner\.vendor\.example, https:\/\/app\.example\.com\/login until .* UTC \(quarterly external test, ticket SEC-42; registered by alice\)/,
    );
    t.ok(entryCard.attachments?.length, 'with a confirmation card');
    t.ok(sim.botMessages().find((m) => m.id === form.id)?.deleted, 'the form is deleted');
    const announced = await sim.waitForBotMessage((m) => m.roomId === announce.id, 5_000);
    t.match(text(announced), /^New approved testing, registered by alice:\n\n\*\*#1\*\*/);
    t.ok(
      h.logs.some((l) => l.event === 'card.extra_inputs' && (l.inputs as string[]).includes('extra_field')),
      'extra inputs are ignored and logged',
    );
  });

  await t.test('a double submit is answered "already recorded" and changes nothing', async (t) => {
    const again = await click(sim, ALICE, form, inputs(form, { tester: 'Someone else' }));
    t.equal(text(again), 'Already recorded as #1 (submitted by alice); nothing changed.');
    t.equal(again.parentId, form.parentId);
    const list = text(await ask(sim, ALICE, direct.id, 'testing list'));
    t.match(list, /\*\*#1\*\* Red team/);
    t.notMatch(list, /#2|Someone else/);
  });

  await t.test('check: an IP inside a registered CIDR, a host, a URL host; the rest not covered', async (t) => {
    t.match(text(await ask(sim, BOB, soc.id, 'testing check 10.1.2.77')), /^Yes: `10\.1\.2\.77` is covered by approved testing \*\*#1\*\*/);
    t.match(text(await ask(sim, BOB, soc.id, 'testing check app.example.com')), /^Yes/);
    t.match(text(await ask(sim, BOB, soc.id, 'testing check 10.1.3.1')), /^No: `10\.1\.3\.1` is not covered/);
    t.match(text(await ask(sim, BOB, soc.id, 'testing check not_a_host!')), /^Say `testing check <host or IP>`/);
    t.match(text(await ask(sim, BOB, soc.id, 'testing frobnicate')), /^Say `testing` for the form/);
  });

  await t.test('help has a button that opens the form; a card from before a restart still works', async (t) => {
    const help = await ask(sim, BOB, soc.id, 'help');
    const actions = (help.attachments?.[0]?.content as { actions: Array<{ title: string; data: Record<string, string> }> }).actions;
    t.same(actions, [{ type: 'Action.Submit', title: 'testing', data: { callback: 'testing.open' } }]);
    const opened = await click(sim, BOB, help, actions[0]!.data);
    t.ok((opened.attachments?.[0]?.content as { body: unknown[] }).body.length > 5, 'the form arrives');

    await h.stop();
    h = await startHarness({ sim, env });
    const second = await click(sim, BOB, opened, inputs(opened, { targets: '192.0.2.7', ticket: '' }));
    t.match(text(second), /^Submitted by bob: recorded as #2\./, 'the form sent before the restart is accepted');
    const again = await click(sim, BOB, opened, inputs(opened));
    t.equal(text(again), 'Already recorded as #2 (submitted by bob); nothing changed.', 'a double submit after a restart too');
    t.match(text(await click(sim, BOB, help, { callback: 'testing.frobnicate' })), /not one I can act on any more/, 'an unknown callback');
  });

  await t.test('remove: only the creator or an admin', async (t) => {
    t.match(text(await ask(sim, BOB, soc.id, 'testing remove 1')), /^Only alice, who registered #1, or an admin can end it\./);
    t.match(text(await ask(sim, ADMIN, soc.id, 'testing remove #1')), /^#1 \(Red team\) ended now; it stays in the history\./);
    t.match(text(await ask(sim, BOB, soc.id, 'testing remove 2')), /^#2 \(Red team\) ended now/, 'the creator may');
    t.match(text(await ask(sim, BOB, soc.id, 'testing remove 2')), /^#2 is already over\./);
    t.match(text(await ask(sim, BOB, soc.id, 'testing remove 99')), /^There is no entry `99`/);
    t.match(text(await ask(sim, BOB, soc.id, 'testing check 10.1.2.77')), /^No/, 'an ended entry covers nothing');
    t.match(text(await ask(sim, BOB, soc.id, 'testing list')), /No approved testing/);
  });

  await t.test('the audit trail has every step', async (t) => {
    const rows = await auditWhen(stateDir, (r) => r.filter((x) => x.command === 'testing').length >= 25);
    const testing = rows.filter((r) => r.command === 'testing');
    const count = (kind: string, outcome: string) => testing.filter((r) => r.kind === kind && r.outcome === outcome).length;
    t.equal(count('card', 'invalid'), 8, 'five refused submits, two double submits, one unknown callback');
    t.equal(count('card', 'ok'), 3, 'two stored entries and the opened form');
    t.equal(count('message', 'denied'), 1, "bob trying to remove alice's entry");
    t.equal(count('message', 'invalid'), 3, 'an unknown subcommand, removing an ended entry and a missing one');
  });
});
