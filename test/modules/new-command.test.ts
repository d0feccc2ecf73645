// `toodles new-command`: what it writes loads, its own test passes under `node --test`, and it works
// in the daemon through the simulator; it never writes over a file, and says why it cannot write.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadCommandModules } from '../../src/modules/index.js';
import { openStorage } from '../../src/storage/index.js';
import { ask, click, text } from '../kit/commands.js';
import { startHarness } from '../kit/daemon-harness.js';
import { captureLog } from '../kit/log-capture.js';
import { cli, skipUnlessRoot } from '../kit/observe.js';
import { CLI, daemonEnv } from '../kit/spawn-daemon.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A program run to its end with only these variables (and PATH, HOME...) in its environment. */
function run(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: opts.cwd, env: daemonEnv(opts.env ?? {}), timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

function scratchDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-new-command-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a plain command and one with a form: written, loaded, tested, and answering in the daemon', async (t) => {
  const here = scratchDir(t);
  const commandsDir = scratchDir(t);
  const plain = await run([CLI, 'new-command', 'hello'], { cwd: here });
  t.equal(plain.code, 0, plain.stderr);
  t.equal(
    plain.stdout,
    `Wrote ${here}/hello.mjs and ${here}/hello.test.mjs.\nTry it: node --test ${here}/hello.test.mjs\n` +
      `Install it as root: install -m 0644 ${here}/hello.mjs /etc/toodles/commands.d/ && systemctl reload toodles. ` +
      'It answers to "hello"; "help hello" shows its help.\n',
    'into the current directory without TOODLES_COMMANDS_DIR',
  );
  const form = await run([CLI, 'new-command', 'report', '--form'], { cwd: here, env: { TOODLES_COMMANDS_DIR: commandsDir } });
  t.equal(form.code, 0, form.stderr);
  t.match(form.stdout, `Wrote ${commandsDir}/report.mjs and ${commandsDir}/report.test.mjs.\n`, 'into TOODLES_COMMANDS_DIR when set');
  t.match(form.stdout, /Load it: systemctl reload toodles\. It answers to "report"/);
  writeFileSync(join(commandsDir, 'hello.mjs'), readFileSync(join(here, 'hello.mjs')));

  await t.test('each loads as a module; the tests beside them are not', async (t) => {
    const { logger } = captureLog();
    const storage = await openStorage({ log: logger });
    t.teardown(() => storage.close());
    const loaded = await loadCommandModules(commandsDir, { reserved: new Set(['help']), storage, log: logger, settings: {} });
    t.same(loaded.problems, []);
    t.same(
      loaded.commands.map((c) => c.keyword),
      ['hello', 'report'],
    );
    t.same(loaded.commands[1]?.form?.required, ['summary']);
  });

  await t.test("each one's test passes under node --test", async (t) => {
    for (const [dir, name] of [
      [here, 'hello'],
      [commandsDir, 'report'],
    ] as const) {
      const tested = await run(['--test', `${name}.test.mjs`], { cwd: dir });
      t.equal(tested.code, 0, `${name}: ${tested.stdout}${tested.stderr}`);
      t.match(tested.stdout, /# fail 0/);
    }
  });

  await t.test('they answer in the daemon, through the simulator', async (t) => {
    const h = await startHarness({ env: { TOODLES_COMMANDS_DIR: commandsDir } });
    t.teardown(() => h.stop());
    const alice = 'alice@example.com';
    const room = h.sim.directRoom(alice).id;
    t.match(text(await ask(h.sim, alice, room, 'hello Bob')), /^Hello, Bob! \(greeting number 1\)$/);
    const card = await ask(h.sim, alice, room, 'report');
    t.match(text(await click(h.sim, alice, card, { callback: 'report', summary: '' })), /^Please fill in: \*\*summary\*\*/);
    t.match(text(await click(h.sim, alice, card, { callback: 'report', summary: 'Printer on fire' })), /Recorded #1: Printer on fire/);
    t.match(text(await ask(h.sim, alice, room, 'report list')), /^- #1 Printer on fire \(alice@example\.com\)$/);
  });
});

t.test('it never writes over a file, and says why it cannot write', async (t) => {
  const dir = scratchDir(t);
  writeFileSync(join(dir, 'hello.test.mjs'), '// mine');
  const again = await run([CLI, 'new-command', 'hello'], { cwd: dir });
  t.equal(again.code, 1);
  t.equal(again.stderr, `toodles new-command: ${dir}/hello.test.mjs already there; nothing written\n`);
  t.equal(readFileSync(join(dir, 'hello.test.mjs'), 'utf8'), '// mine');

  const missing = await run([CLI, 'new-command', 'hello'], { cwd: dir, env: { TOODLES_COMMANDS_DIR: join(dir, 'nowhere') } });
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^toodles new-command: cannot write .*\/nowhere\/hello\.mjs: ENOENT/);

  for (const args of [[], ['Hello'], ['two', 'words'], ['hello', '--forms']]) {
    const bad = await run([CLI, 'new-command', ...args], { cwd: dir });
    t.equal(bad.code, 64, args.join(' '));
    t.match(bad.stderr, /usage: toodles new-command NAME \[--form\]/);
  }
  const relative = await run([CLI, 'new-command', 'hello'], { cwd: dir, env: { TOODLES_COMMANDS_DIR: 'commands.d' } });
  t.equal(relative.code, 78);
  t.equal(relative.stderr, 'toodles new-command: TOODLES_COMMANDS_DIR: must be an absolute path (got "commands.d")\n');
});

t.test(
  'someone who may not write the commands directory is told to write elsewhere and install it as root',
  { skip: skipUnlessRoot },
  async (t) => {
    const dir = scratchDir(t); // root's, 0700 from mkdtemp: as /etc/toodles/commands.d is to the service user
    const denied = await cli(['new-command', 'hello'], { TOODLES_COMMANDS_DIR: dir }, { user: 'nobody' });
    t.equal(denied.code, 1);
    t.equal(
      denied.stderr,
      `toodles new-command: cannot write ${dir}/hello.mjs: permission denied; write it in a directory of your own, ` +
        'then install it as root (install -m 0644 NAME.mjs /etc/toodles/commands.d/)\n',
    );
  },
);
