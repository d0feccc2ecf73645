// Module commands in the daemon, through the real SDK and the simulator: what the built-in ones get
// (help, admin flag, failure and overrun with a reference, audit trail, forms) and their own store.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startSimulator } from '../../src/simulator/index.js';
import { ask, auditWhen, click, tempStateDir, text } from '../kit/commands.js';
import { FAST, startHarness } from '../kit/daemon-harness.js';

const ALICE = 'alice@example.com';
const ADMIN = 'admin@example.com';

const TEAM_MODULE = `export const apiVersion = 1;
const noteCard = () => ({
  type: 'AdaptiveCard',
  version: '1.3',
  body: [{ type: 'Input.Text', id: 'text', isRequired: true }],
  actions: [{ type: 'Action.Submit', title: 'Save', data: { callback: 'note' } }],
});
export default [
  {
    keyword: 'echo',
    aliases: ['say'],
    description: 'repeats what you say',
    help: 'Say \`echo <words>\`.',
    async run(ctx) {
      await ctx.reply({ markdown: 'you said ' + ctx.escape.markdownText(ctx.args) });
    },
  },
  { keyword: 'secret', description: 'tells the secret', adminOnly: true, async run(ctx) { await ctx.reply({ markdown: 'the secret' }); } },
  { keyword: 'boom', description: 'fails', async run() { throw new Error('module bug'); } },
  {
    keyword: 'stall',
    description: 'overruns its time',
    run: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
  },
  { keyword: 'garble', description: 'replies wrongly', async run(ctx) { await ctx.reply('plain text'); } },
  {
    keyword: 'count',
    description: 'counts in its own store',
    async run(ctx) {
      const n = ((await ctx.store.get('n')) ?? 0) + 1;
      await ctx.store.set('n', n);
      ctx.log.info('counted', { n });
      await ctx.reply({ markdown: 'count ' + n + '; greeting ' + ctx.setting('TOODLES_MODULE_GREETING') });
    },
  },
  {
    keyword: 'peek',
    description: 'tries to read a setting that is not a module one',
    async run(ctx) { await ctx.reply({ markdown: String(ctx.setting('WEBEX_BOT_TOKEN')) }); },
  },
  {
    keyword: 'note',
    description: 'keeps a note',
    async run(ctx) { await ctx.reply({ markdown: 'note form', card: noteCard() }); },
    form: {
      fields: ['text'],
      required: ['text'],
      card: noteCard,
      async submit(ctx) {
        if (ctx.inputs.text === 'nope') return { invalid: 'Not that one.' };
        return { recordedAs: 'note 1', reply: { markdown: 'noted ' + ctx.escape.markdownText(ctx.inputs.text) } };
      },
    },
  },
];
`;

t.test('module commands in the daemon get what the built-in ones get', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-commands-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'team.mjs'), TEAM_MODULE);
  writeFileSync(
    join(dir, 'broken.mjs'),
    'export const apiVersion = 1;\nexport default { keyword: "ping", description: "mine", async run() {} };\n',
  );
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const stateDir = tempStateDir(t);
  const env = {
    TOODLES_COMMANDS_DIR: dir,
    TOODLES_STATE_DIR: stateDir,
    TOODLES_ADMIN_EMAILS: ADMIN,
    TOODLES_MODULE_GREETING: 'hi there',
  };
  let h = await startHarness({ sim, env, tuning: { ...FAST, handlerTimeoutMs: 3_000 } });
  t.teardown(() => h.stop());
  const direct = sim.directRoom(ALICE);

  await t.test('loaded at start: the broken module is one error naming the file and why, the rest run', async (t) => {
    const skipped = h.logs.filter((l) => l.event === 'module.skipped');
    t.same(
      skipped.map((l) => [l.file, l.why]),
      [['broken.mjs', 'claims `ping`, already taken by a built-in command']],
    );
    t.equal(skipped[0]?.level, 50, 'an error');
    const loaded = h.logs.find((l) => l.event === 'modules.loaded');
    t.same(loaded?.commands, ['echo', 'secret', 'boom', 'stall', 'garble', 'count', 'peek', 'note']);
    t.match(text(await ask(sim, ALICE, direct.id, 'ping')), /^pong/, 'the built-in keeps its word');
    t.equal(text(await ask(sim, ALICE, direct.id, 'say <@all> **hi**')), 'you said &lt;@all> \\*\\*hi\\*\\*', 'by alias, escaped');
  });

  await t.test('help lists them, marks the admin-only one and tells more about one', async (t) => {
    const listing = text(await ask(sim, ALICE, direct.id, 'help'));
    t.match(listing, /- `echo`: repeats what you say \(also `say`\)/);
    t.match(listing, /- `secret`: tells the secret \(admins only\)/);
    t.match(listing, /- `ping`: /);
    t.equal(text(await ask(sim, ALICE, direct.id, 'help echo')), '`echo`: repeats what you say\n\nSay `echo <words>`.');
    t.equal(text(await ask(sim, ALICE, direct.id, 'help secret')), '`secret`: tells the secret (admins only)');
    t.match(text(await ask(sim, ALICE, direct.id, 'help nothing')), /^I don't know `nothing`/);
  });

  await t.test('an admin-only command refuses everyone but the admins, and says so in the log', async (t) => {
    t.equal(text(await ask(sim, ALICE, direct.id, 'secret')), '`secret` is for admins only.');
    const denied = h.logs.find((l) => l.event === 'access.denied' && l.command === 'secret');
    t.equal(denied?.reason, 'admins only');
    t.equal(text(await ask(sim, ADMIN, sim.directRoom(ADMIN).id, 'secret')), 'the secret');
  });

  await t.test('a throw, an overrun and a malformed reply each answer with a reference that is in the log', async (t) => {
    for (const word of ['boom', 'stall', 'garble']) {
      const answer = text(await ask(sim, ALICE, direct.id, word));
      const ref = /^Sorry, `(\w+)` failed\. Reference: ([0-9a-f]{8})$/.exec(answer);
      t.equal(ref?.[1], word, answer);
      const failed = await h.waitForLog('command.failed', (l) => l.ref === ref?.[2]);
      t.equal(failed.command, word);
      if (word === 'boom') t.equal(failed.err, 'module bug');
      if (word === 'stall') t.match(failed.err, /timed out after 3000 ms/);
      if (word === 'garble') t.equal(failed.err, "ctx.reply needs { markdown: 'some text' }");
    }
  });

  await t.test('a module reads its own settings, not the others', async (t) => {
    t.equal(text(await ask(sim, ALICE, direct.id, 'count')), 'count 1; greeting hi there');
    t.match(text(await ask(sim, ALICE, direct.id, 'peek')), /^Sorry, `peek` failed/);
    const failed = await h.waitForLog('command.failed', (l) => l.command === 'peek');
    t.match(failed.err, /a module may read only TOODLES_MODULE_\* settings \(asked for WEBEX_BOT_TOKEN\)/);
    t.notOk(JSON.stringify(h.logs).includes(sim.botToken), 'the token is in no log line');
  });

  await t.test('its log lines name the command', async (t) => {
    const line = await h.waitForLog('module.log', (l) => l.command === 'count');
    t.match(line, { text: 'counted', n: 1, file: 'team.mjs', level: 30 });
  });

  await t.test('a form: required inputs checked, invalid kept, a submit recorded once', async (t) => {
    const form = await ask(sim, ALICE, direct.id, 'note');
    t.match(text(await click(sim, ALICE, form, { callback: 'note', text: ' ' })), /^Please fill in: \*\*text\*\*/);
    t.match(text(await click(sim, ALICE, form, { callback: 'note', text: 'nope' })), /Not that one\./);
    t.match(text(await click(sim, ALICE, form, { callback: 'note', text: 'remember the milk' })), /noted remember the milk/);
    t.match(text(await click(sim, ALICE, form, { callback: 'note', text: 'again' })), /Already recorded as note 1/);
  });

  await t.test('every run is in the audit trail, as a built-in one is', async (t) => {
    const rows = await auditWhen(stateDir, (r) => r.some((x) => x.command === 'note' && x.kind === 'card' && x.outcome === 'ok'));
    const outcome = (command: string) => rows.filter((r) => r.command === command).map((r) => r.outcome);
    t.same(outcome('secret'), ['denied', 'ok']);
    t.same(outcome('boom'), ['failed']);
    t.same(outcome('stall'), ['failed']);
    t.same(outcome('echo'), ['ok']);
    t.ok(outcome('note').includes('invalid'));
  });

  await t.test('its store outlives a restart', async (t) => {
    await h.stop();
    h = await startHarness({ sim, env });
    t.equal(text(await ask(sim, ALICE, direct.id, 'count')), 'count 2; greeting hi there');
  });
});
