// loadCommandModules on real files: what loads, what is skipped and why, and a changed file loaded anew.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadCommandModules, type ModuleDeps } from '../../src/modules/index.js';
import { openStorage } from '../../src/storage/index.js';
import { repliesTo } from '../kit/commands.js';
import { captureLog } from '../kit/log-capture.js';

type Test = { teardown(fn: () => unknown): void };

/** A directory holding these files (name -> source). */
function commandsDir(t: Test, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-commands-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Node takes a `.js` file with `export` for an ES module; tap's TypeScript loader would make it CommonJS without this.
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
  return dir;
}

// Loading never touches the store; the modules' use of it is tested in kv and daemon-modules.
const storage = await openStorage({ log: captureLog().logger });
t.teardown(() => storage.close());

function deps(over: Partial<ModuleDeps> = {}): ModuleDeps {
  const { logger } = captureLog();
  return { reserved: new Set(['help', 'ping', 'status', 'testing']), storage, log: logger, settings: {}, ...over };
}

const module = (body: string) => `export const apiVersion = 1;\nexport default ${body};\n`;
const command = (keyword: string, extra = '') =>
  `{ keyword: '${keyword}', description: 'says ${keyword}', ${extra} async run(ctx) { await ctx.reply({ markdown: '${keyword}!' }); } }`;

t.test('good modules load: one command, a list, a form, aliases; in file name order', async (t) => {
  const dir = commandsDir(t, {
    'b-list.mjs': module(`[${command('who')}, ${command('rotation', "aliases: ['rota'], help: 'rotation [weeks]',")}]`),
    'a-one.js': module(command('hello', 'adminOnly: true,')),
    'c-form.mjs': module(
      command(
        'links',
        `form: { fields: ['name', 'url'], required: ['name'], card: () => ({ type: 'AdaptiveCard' }), async submit() { return { invalid: 'no' }; } },
         actions: { remove: async () => 'denied' },`,
      ),
    ),
  });
  const { commands, problems } = await loadCommandModules(dir, deps());
  t.same(problems, []);
  t.same(
    commands.map((c) => c.keyword),
    ['hello', 'who', 'rotation', 'links'],
  );
  const [hello, , rotation, links] = commands;
  t.equal(hello?.adminOnly, true);
  t.same(rotation?.aliases, ['rota']);
  t.equal(rotation?.help, 'rotation [weeks]');
  t.same(links?.form?.required, ['name']);
  t.same(await repliesTo(hello), ['hello!']);
});

t.test('each broken module is skipped with one problem naming the file and why; the others load', async (t) => {
  const dir = commandsDir(t, {
    'good.mjs': module(command('fine')),
    'syntax.mjs': `export const apiVersion = 1;\nexport default {\n  keyword: 'x' 'y',\n};\n`,
    'throws.mjs': `export const apiVersion = 1;\nthrow new Error('roster service unreachable');\n`,
    'missing-import.mjs': `import x from 'no-such-package-anywhere';\nexport const apiVersion = 1;\nexport default x;\n`,
    'no-version.mjs': `export default ${command('nover')};`,
    'future.mjs': `export const apiVersion = 2;\nexport default ${command('future')};`,
    'no-default.mjs': 'export const apiVersion = 1;\nexport const command = {};\n',
    'empty-list.mjs': module('[]'),
    'not-object.mjs': module("'hello'"),
    'no-run.mjs': module("{ keyword: 'norun', description: 'x' }"),
    'upper.mjs': module(command('Shout')),
    'two-words.mjs': module(command('two words')),
    'typo.mjs': module(command('typo', 'adminonly: true,')),
    'multiline.mjs': module("{ keyword: 'ml', description: 'one\\ntwo', async run() {} }"),
    'bad-alias.mjs': module(command('alias', "aliases: 'al',")),
    'bad-admin.mjs': module(command('admin', "adminOnly: 'yes',")),
    'bad-form.mjs': module(command('form', "form: { fields: ['a'], required: ['b'], card() {}, async submit() {} },")),
    'bad-action.mjs': module(command('act', 'actions: { open: async () => {} },')),
    'twice.mjs': module(`[${command('dup')}, ${command('dup')}]`),
  });
  const { commands, problems } = await loadCommandModules(dir, deps());
  t.same(
    commands.map((c) => c.keyword),
    ['fine'],
  );
  const why = Object.fromEntries(problems.map((p) => [p.file, p.why]));
  t.equal(problems.length, Object.keys(why).length, 'one problem per file');
  t.match(why, {
    'syntax.mjs': /^has a syntax error at line 3: Unexpected string/,
    'throws.mjs': /^failed while loading: roster service unreachable$/,
    'missing-import.mjs': /^failed while loading: Cannot find package 'no-such-package-anywhere'/,
    'no-version.mjs': 'exports no apiVersion (add: export const apiVersion = 1)',
    'future.mjs': 'is written for command API version 2; this toodles speaks version 1',
    'no-default.mjs': /^has no default export/,
    'empty-list.mjs': 'exports an empty list of commands',
    'not-object.mjs': 'command 1: is "hello", not a command object',
    'no-run.mjs': /^`norun`: run must be a function/,
    'upper.mjs': /^`Shout`: keyword "Shout" must be one lower-case word/,
    'two-words.mjs': /^`two words`: keyword "two words" must be one lower-case word/,
    'typo.mjs': /^`typo`: unknown property `adminonly`/,
    'multiline.mjs': /^`ml`: description must be one line/,
    'bad-alias.mjs': /^`alias`: aliases must be a list/,
    'bad-admin.mjs': '`admin`: adminOnly must be true or false',
    'bad-form.mjs': '`form`: form: required names `b`, which is not in fields',
    'bad-action.mjs': /^`act`: actions: `open` is help's button/,
    'twice.mjs': 'claims `dup` twice',
  });
});

t.test('a keyword or alias already taken skips the module that claims it; the first file in name order keeps it', async (t) => {
  const dir = commandsDir(t, {
    'a.mjs': module(command('links')),
    'b.mjs': module(`[${command('bookmarks')}, ${command('links')}]`),
    'c.mjs': module(command('pong', "aliases: ['ping'],")),
    'd.mjs': module(command('status')),
  });
  const { commands, problems } = await loadCommandModules(dir, deps());
  t.same(
    commands.map((c) => c.keyword),
    ['links'],
  );
  t.same(problems, [
    { file: 'b.mjs', why: 'claims `links`, already taken by a.mjs' },
    { file: 'c.mjs', why: 'claims `ping`, already taken by a built-in command' },
    { file: 'd.mjs', why: 'claims `status`, already taken by a built-in command' },
  ]);
});

t.test('only modules are loaded: tests beside them, hidden files and other files are left alone', async (t) => {
  const dir = commandsDir(t, {
    'hello.mjs': module(command('hello')),
    'hello.test.mjs': "throw new Error('a test is not a module');",
    'other.test.js': "throw new Error('a test is not a module');",
    '.editor-backup.mjs': "throw new Error('hidden');",
    'roster.json': '{}',
    'README.md': '# notes',
  });
  const { commands, problems } = await loadCommandModules(dir, deps());
  t.same(
    commands.map((c) => c.keyword),
    ['hello'],
  );
  t.same(problems, []);
});

t.test('loading again: a changed file runs its new code, an unchanged one stays the module already loaded', async (t) => {
  const counter = `globalThis.__toodlesLoads = (globalThis.__toodlesLoads ?? 0) + 1;\n`;
  const dir = commandsDir(t, {
    'greet.mjs': module(command('greet')),
    'steady.mjs': counter + module(command('steady')),
  });
  const d = deps();
  const first = await loadCommandModules(dir, d);
  writeFileSync(
    join(dir, 'greet.mjs'),
    module(`{ keyword: 'greet', description: 'v2', async run(ctx) { await ctx.reply({ markdown: 'v2' }); } }`),
  );
  const second = await loadCommandModules(dir, d);
  t.same(await repliesTo(first.commands[0]), ['greet!'], 'the first load keeps its code');
  t.same(await repliesTo(second.commands[0]), ['v2'], 'the changed file is loaded anew');
  t.equal(second.commands[0]?.description, 'v2');
  t.equal((globalThis as { __toodlesLoads?: number }).__toodlesLoads, 1, 'the unchanged module ran its top-level code once');
});

t.test('a module whose loading never finishes is given up on; a missing directory is one problem', async (t) => {
  // The hanging import holds nothing open: this keeps the test process alive meanwhile.
  const hold = setInterval(() => undefined, 1_000);
  t.teardown(() => clearInterval(hold));
  const dir = commandsDir(t, { 'hangs.mjs': `await new Promise(() => {});\nexport const apiVersion = 1;\n` });
  const hung = await loadCommandModules(dir, deps({ importTimeoutMs: 200 }));
  t.same(hung.problems, [{ file: 'hangs.mjs', why: 'was still loading after 200 ms (its top-level code waits for something)' }]);

  const missing = join(dir, 'nowhere');
  const none = await loadCommandModules(missing, deps());
  t.same(none.commands, []);
  t.equal(none.problems.length, 1);
  t.equal(none.problems[0]?.file, missing);
  t.match(none.problems[0]?.why, /^the directory cannot be read: ENOENT/);
});
