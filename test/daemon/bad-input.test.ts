import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import type { Command } from '../../src/bot/command.js';
import { WEBEX_MAX_CHARS } from '../../src/bot/split-reply.js';
import { FAST, startHarness } from '../kit/daemon-harness.js';
import { ask, audit, auditWhen, click, tempStateDir, text, textFormCommand } from '../kit/commands.js';
import { eventually } from '../kit/wait.js';

const ALICE = 'alice@example.com';
const lines = (n: number) => Array.from({ length: n }, (_v, i) => `line ${i} `.padEnd(60, '.'));
const long: Command = {
  keyword: 'long',
  aliases: ['lengthy'],
  description: 'a reply far over the Webex limit',
  run: (ctx) => ctx.reply({ markdown: lines(Number(ctx.args) || 300).join('\n') }),
};

/** A form that stores nothing itself: only the dispatcher's own record of the submit. */
const note = textFormCommand('note', 'a form that keeps nothing', async (ctx) => ({
  recordedAs: `note "${ctx.inputs.text}"`,
  reply: { markdown: 'kept in mind' },
}));

t.test('bad input gets a sensible answer or a logged skip, never a crash', async (t) => {
  const h = await startHarness({ tuning: { ...FAST, extraCommands: [long] } });
  t.teardown(() => h.stop());
  const { sim } = h;
  const direct = sim.directRoom(ALICE);

  t.match(text(await ask(sim, ALICE, direct.id, '')), /^Hello! Say `help`/, 'an empty message');
  const group = sim.groupRoom('SOC', [ALICE]);
  t.match(text(await ask(sim, ALICE, group.id, '')), /^Hello! Say `help`/, 'only a mention');
  const file = sim.postMessage({ from: ALICE, roomId: direct.id, text: '', files: ['https://files.example/report.pdf'] });
  await h.waitForLog('command.skipped', (l) => l.reason === 'a file without text');
  t.equal(sim.repliesTo(file.id).length, 0, 'a file with no text: skipped, logged');
  const huge = await ask(sim, ALICE, direct.id, 'x'.repeat(10_000));
  t.match(text(huge), /^I don't know `x{40}…`\. Say `help`/, 'a 10,000-character message');
  t.match(text(await ask(sim, ALICE, direct.id, `ping ${'y'.repeat(10_000)}`)), /^pong/, 'a known command with 10,000 characters after it');
  t.match(text(await ask(sim, ALICE, direct.id, 'frobnicate now')), /^I don't know `frobnicate`/, 'an unknown command');

  await t.test('a person Webex cannot look up: a message still gets its answer, judged on its address', async (t) => {
    h.sim.faults.failRest({ path: '^/v1/people/[^m]', method: 'GET', status: 403, count: 1 });
    const carol = 'carol@example.com';
    t.match(text(await ask(sim, carol, sim.directRoom(carol).id, 'ping')), /^pong/);
    t.ok(h.logs.some((l) => l.event === 'person.lookup_failed'));
  });

  await t.test('a button on a card that is gone is answered in its space', async (t) => {
    const form = await ask(sim, ALICE, direct.id, 'testing');
    t.match(
      text(
        await click(sim, ALICE, form, {
          callback: 'testing',
          tester: 'x',
          targets: '10.0.0.1',
          what: 'y',
          end_date: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
        }),
      ),
      /recorded as #1/,
    );
    const reopened = await click(sim, ALICE, form, { callback: 'testing.open' });
    t.equal(reopened.parentId, undefined, 'no thread to answer in');
    t.ok(reopened.attachments?.length, 'the form, sent anew');
  });

  await t.test('long replies are split at line boundaries into several messages', async (t) => {
    const asked = sim.postMessage({ from: ALICE, roomId: direct.id, text: 'lengthy' });
    await h.waitForLog('command.done', (l) => l.command === 'long');
    const parts = sim.repliesTo(asked.id);
    t.equal(parts.length, 3);
    for (const p of parts) t.ok(text(p).length <= WEBEX_MAX_CHARS);
    t.same(parts.map(text).join('\n').split('\n'), lines(300), 'nothing lost, nothing broken');
    const huge = sim.postMessage({ from: ALICE, roomId: direct.id, text: 'long 3000' });
    await h.waitForLog(
      'command.done',
      (l) => l.command === 'long' && h.logs.filter((x) => x.event === 'command.done' && x.command === 'long').indexOf(l) === 1,
    );
    const cut = sim.repliesTo(huge.id);
    t.equal(cut.length, 4, 'at most four messages');
    t.match(text(cut[3]!), /_\(cut: \d+ more lines not shown\)_$/);
  });
});

t.test('the database unavailable: commands still answered, the failure logged, the daemon running', async (t) => {
  await t.test('locked by another process while the bot runs', async (t) => {
    const stateDir = tempStateDir(t);
    const h = await startHarness({ env: { TOODLES_STATE_DIR: stateDir } });
    t.teardown(() => h.stop());
    const direct = h.sim.directRoom(ALICE);
    t.match(text(await ask(h.sim, ALICE, direct.id, 'ping')), /^pong/);
    await auditWhen(stateDir, (r) => r.length === 1);
    const other = new Database(join(stateDir, 'toodles.db'));
    other.exec('BEGIN EXCLUSIVE'); // nobody else can write now
    t.match(text(await ask(h.sim, ALICE, direct.id, 'ping')), /^pong/, 'answered while the database is locked');
    const failed = await h.waitForLog('storage.failed', (l) => l.op === 'record activity');
    t.match(failed.err, /locked|busy/i);
    t.match(
      text(await ask(h.sim, ALICE, direct.id, 'testing list')),
      /^No approved testing/,
      'reads still work (WAL) while writes are locked out',
    );
    // Its record is written after the answer, waiting up to SQLite's busy timeout: unlock once it gave up.
    await eventually(
      'the second record locked out',
      () => h.logs.filter((l) => l.event === 'storage.failed' && l.op === 'record activity').length >= 2,
    );
    other.exec('ROLLBACK');
    other.close();
    t.match(text(await ask(h.sim, ALICE, direct.id, 'ping')), /^pong/);
    const rows = await auditWhen(stateDir, (r) => r.length >= 2);
    t.same(
      rows.map((r) => r.outcome),
      ['ok', 'ok'],
      'recording resumes once the lock is gone; the locked-out records are lost, not the commands',
    );
    t.equal(h.daemon.status().state, 'online');
  });

  await t.test('cannot be opened at all (the path is a directory)', async (t) => {
    const stateDir = tempStateDir(t);
    mkdirSync(join(stateDir, 'toodles.db'));
    const h = await startHarness({ env: { TOODLES_STATE_DIR: stateDir }, tuning: { ...FAST, extraCommands: [note] } });
    t.teardown(() => h.stop());
    t.ok(h.logs.some((l) => l.event === 'storage.open_failed'));
    const direct = h.sim.directRoom(ALICE);
    t.match(text(await ask(h.sim, ALICE, direct.id, 'ping')), /^pong/);
    t.match(text(await ask(h.sim, ALICE, direct.id, 'status')), /\*\*Connection\*\*: online/);
    await t.rejects(audit(stateDir));

    const form = await ask(h.sim, ALICE, direct.id, 'note');
    h.sim.faults.failRest({ path: '/messages/', method: 'DELETE', status: 403, count: 1 });
    t.match(text(await click(h.sim, ALICE, form, { callback: 'note', text: 'hi' })), /^Submitted by alice: recorded as note "hi"\./);
    t.ok(h.logs.some((l) => l.event === 'storage.failed' && l.op === 'record submission'));
    t.ok(
      h.logs.some((l) => l.event === 'card.delete_failed'),
      'a form Webex would not delete: logged, the submit stands',
    );
    t.equal(
      text(await click(h.sim, ALICE, form, { callback: 'note', text: 'again' })),
      'Already recorded as note "hi" (submitted by alice); nothing changed.',
      'a double submit is caught without the database',
    );
    t.ok(h.logs.some((l) => l.event === 'storage.failed' && l.op === 'read submission'));
  });
});
