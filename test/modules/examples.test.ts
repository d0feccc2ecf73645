// The example modules as shipped (examples/commands/), loaded by the daemon as a process of its own
// and asked through the simulator: on call (`who`, `rotation`) from a roster file, and `links`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadCommandModules } from '../../src/modules/index.js';
import { startSimulator } from '../../src/simulator/index.js';
import { openStorage } from '../../src/storage/index.js';
import { ask, auditWhen, click, repliesTo, text } from '../kit/commands.js';
import { captureLog } from '../kit/log-capture.js';
import { ROOT, spawnDaemon } from '../kit/spawn-daemon.js';

const EXAMPLES = join(ROOT, 'examples/commands');
const ALICE = 'alice@example.com';
const DAY = 86_400_000;
/** A time as the roster prints it: "Mon 7 Dec, 09:00". */
const WHEN = '\\w{3} \\d{1,2} \\w{3}, \\d{2}:\\d{2}';

t.test('the example modules, in the daemon as a process', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'toodles-examples-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const rosterFile = join(scratch, 'roster.json');
  // The current shift began a day ago: Ann has it, Ben is next, then Cat.
  const people = [
    { name: 'Ann Oncall', email: 'ann@example.com', phone: '+1 555 0101' },
    { name: 'Ben Oncall', email: 'ben@example.com' },
    { name: 'Cat Oncall', email: 'cat@example.com' },
  ];
  const start = new Date(Date.now() - DAY).toISOString();
  const writeRoster = (over: Record<string, unknown> = {}) =>
    writeFileSync(rosterFile, JSON.stringify({ start, shiftDays: 7, timeZone: 'UTC', people, ...over }));
  writeRoster();

  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const stateDir = join(scratch, 'state');
  const daemon = spawnDaemon({
    WEBEX_BOT_TOKEN: sim.botToken,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_PROXY_URL: 'direct',
    TOODLES_STATE_DIR: stateDir,
    TOODLES_COMMANDS_DIR: EXAMPLES,
    TOODLES_MODULE_ONCALL_ROSTER: rosterFile,
  });
  t.teardown(() => daemon.signal('SIGTERM'));
  const loaded = await daemon.waitForLog('modules.loaded');
  t.same(loaded.commands, ['links', 'who', 'rotation'], 'both modules load, in file name order');
  await daemon.waitForLog('daemon.ready');
  const direct = sim.directRoom(ALICE);
  const say = async (words: string) => text(await ask(sim, ALICE, direct.id, words));

  await t.test('help lists them', async (t) => {
    const help = await say('help');
    for (const line of ['- `links`: ', '- `who`: who is on call now, and who is next (also `oncall`)', '- `rotation`: ']) {
      t.ok(help.includes(line), line);
    }
  });

  await t.test('who: on call now and next, from the roster', async (t) => {
    t.match(
      await say('who'),
      new RegExp(
        `^On call now: \\*\\*Ann Oncall\\*\\* \\(ann@example\\.com, \\+1 555 0101\\), until ${WHEN}\\.\\n\\n` +
          'Next: \\*\\*Ben Oncall\\*\\* \\(ben@example\\.com\\)\\. Say `rotation` for the coming weeks\\.$',
      ),
    );
  });

  await t.test('a swap written into the roster counts at once, without a reload', async (t) => {
    writeRoster({
      swaps: [
        { from: new Date(Date.now() - DAY).toISOString(), until: new Date(Date.now() + DAY).toISOString(), email: 'CAT@example.com' },
      ],
    });
    t.match(await say('oncall'), /^On call now: \*\*Cat Oncall\*\* \(cat@example\.com\) \(covering for Ann Oncall\), until /);
    const rota = (await say('rotation')).split('\n');
    t.equal(rota[0], 'On-call rotation (times in UTC):');
    t.match(rota.slice(1), [
      new RegExp(`^- ${WHEN} to ${WHEN}: \\*\\*Ann Oncall\\*\\*$`),
      new RegExp(`^  - covered by Cat Oncall from ${WHEN} to ${WHEN}$`),
      /\*\*Ben Oncall\*\*$/,
      /\*\*Cat Oncall\*\*$/,
      /\*\*Ann Oncall\*\*$/,
      /\*\*Ben Oncall\*\*$/,
      /\*\*Cat Oncall\*\*$/,
    ]);
    t.equal(rota.length, 8, 'six shifts and the swap');
    t.equal((await say('rota 2')).split('\n').length, 4, 'as many shifts as asked');
    t.match(await say('rotation lots'), /^Say `rotation` or `rotation <1 to 26>`\.$/);
  });

  await t.test('a broken roster answers with a reference; the log says what is wrong in which file', async (t) => {
    writeRoster({ people: [] });
    const answer = await say('who');
    const ref = /^Sorry, `who` failed\. Reference: ([0-9a-f]{8})$/.exec(answer)?.[1];
    t.ok(ref, answer);
    const failed = await daemon.waitForLog('command.failed', (l) => l.ref === ref);
    t.equal(failed.err, `on-call roster ${rosterFile}: people must list at least one person`);
    writeRoster();
    t.match(await say('who'), /^On call now: \*\*Ann Oncall\*\*/, 'mended, it answers again');
  });

  await t.test('links: add, list, show, remove, kept in its store', async (t) => {
    t.match(await say('links'), /^No links yet\. Say `links` for the list/);
    t.equal(
      await say('links add wiki https://wiki.example.com/Team_(IR) the team wiki'),
      'Saved `wiki`: [wiki](https://wiki.example.com/Team_%28IR%29): the team wiki',
    );
    t.equal(
      await say('links add Runbooks http://runbooks.example.com <@all> look **here**'),
      'Saved `Runbooks`: [Runbooks](http://runbooks.example.com/): &lt;@all> look \\*\\*here\\*\\*',
    );
    t.equal(
      await say('links'),
      '- [Runbooks](http://runbooks.example.com/): &lt;@all> look \\*\\*here\\*\\*\n- [wiki](https://wiki.example.com/Team_%28IR%29): the team wiki',
    );
    t.equal(await say('links WIKI'), '[wiki](https://wiki.example.com/Team_%28IR%29): the team wiki', 'one, by name in any case');
    t.equal(await say('links add wiki https://new.example.com'), 'Replaced `wiki`: [wiki](https://new.example.com/)');
    t.match(await say('links add bad javascript:alert(1)'), /^Only http and https links can be kept\.$/);
    t.match(await say('links add bad not-a-url'), /^`not-a-url` is not a web address/);
    t.match(await say('links add list https://x.example.com'), /^`list` is a word of the command itself/);
    t.match(await say('links add [x](y) https://x.example.com'), /cannot be a link's name/);
    t.equal(await say('links remove runbooks'), 'Removed `runbooks`.');
    t.match(await say('links remove runbooks'), /^There is no link `runbooks` to remove\./);
    t.match(await say('links nothing'), /^There is no link `nothing`\./);
  });

  await t.test('links add without words sends a form; its submit is recorded once', async (t) => {
    const form = await ask(sim, ALICE, direct.id, 'links add');
    t.ok(form.attachments?.length, 'a card');
    t.match(text(await click(sim, ALICE, form, { callback: 'links', name: 'pager', url: '' })), /^Please fill in: \*\*url\*\*/);
    t.match(
      text(await click(sim, ALICE, form, { callback: 'links', name: 'pager', url: 'ftp://x' })),
      /Only http and https links can be kept/,
    );
    t.match(
      text(
        await click(sim, ALICE, form, { callback: 'links', name: 'pager', url: 'https://pager.example.com', description: 'who to page' }),
      ),
      /Saved `pager`: \[pager\]\(https:\/\/pager\.example\.com\/\): who to page/,
    );
    t.match(
      text(await click(sim, ALICE, form, { callback: 'links', name: 'other', url: 'https://x.example.com' })),
      /Already recorded as pager/,
    );
    t.match(await say('links'), /\[pager\]\(https:\/\/pager\.example\.com\/\): who to page/);
  });

  await t.test('the audit trail has them', async (t) => {
    const rows = await auditWhen(stateDir, (r) => r.some((x) => x.command === 'links' && x.kind === 'card' && x.outcome === 'ok'));
    const commands = new Set(rows.map((r) => r.command));
    for (const c of ['who', 'rotation', 'links']) t.ok(commands.has(c), c);
    t.ok(rows.some((r) => r.command === 'who' && r.outcome === 'failed'));
    t.ok(rows.some((r) => r.command === 'rotation' && r.outcome === 'invalid'));
  });
});

t.test('the roster shipped beside the module is read when no roster is set, and is valid', async (t) => {
  const { logger } = captureLog();
  const storage = await openStorage({ log: logger });
  t.teardown(() => storage.close());
  const { commands, problems } = await loadCommandModules(EXAMPLES, { reserved: new Set(), storage, log: logger, settings: {} });
  t.same(problems, []);
  const replies = await repliesTo(
    commands.find((c) => c.keyword === 'rotation'),
    '3',
  );
  t.match(replies[0], /^On-call rotation \(times in Europe\/London\):\n- .*: \*\*(Alice|Bob|Carol) Example\*\*/);
});
