/**
 * `toodles config check [FILE]` through the CLI, as an operator or install.sh runs it: 0 and one "ok"
 * line for a good file; 78 and one line per bad setting (with its line in the file) for a bad one;
 * never a secret's value.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../kit/observe.js';

const TOKEN = `${'0123456789abcdef'.repeat(3)}_PF84_11111111-2222-3333-4444-555555555555`;
const PASSWORD = 'hunter2-db-password';

function settingsDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const check = (...args: string[]) => cli(['config', 'check', ...args], {});

t.test('a good file: exit 0, one ok line with a short summary', async (t) => {
  const file = join(settingsDir(t), 'toodles.env');
  writeFileSync(
    file,
    [
      '# settings',
      'TOODLES_ALLOWED_EMAILS="alice@example.com, bob@example.com"',
      'TOODLES_ALLOWED_DOMAINS=example.org',
      'TOODLES_LOG_LEVEL=debug',
      'TOODLES_RECONNECT_INTERVAL_S=300',
      '',
    ].join('\n'),
  );
  const r = await check(file);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `toodles config check: ${file}: ok: 4 settings; access for 2 addresses, 1 domain, 0 spaces; log level debug\n`);
  t.equal(r.stderr, '');

  writeFileSync(file, '# nothing set\n');
  const open = await check(file);
  t.equal(open.code, 0);
  t.match(open.stdout, /ok: 0 settings; everyone may use the bot \(no access rule\); log level info/);
});

t.test('a bad file: exit 78, every bad setting on a line of its own with its line, no secret', async (t) => {
  const file = join(settingsDir(t), 'toodles.env');
  writeFileSync(
    file,
    [
      'TOODLES_ALLOWED_EMAILS=alice@example.com,not-an-address',
      'TOODLES_LOG_LEVEL=loud',
      '# a comment',
      'TOODLES_RECONNECT_INTERVAL_S=soon',
      `WEBEX_BOT_TOKEN=${TOKEN}`,
      'export TOODLES_ADMIN_EMAILS=alice@example.com',
      `TOODLES_PROXY_URL=http://user:${PASSWORD}@proxy.example.com`,
      'TOODLES_CANARY_RESTART_AFTER=1',
      '',
    ].join('\n'),
  );
  const r = await check(file);
  t.equal(r.code, 78);
  t.equal(r.stdout, '');
  t.same(r.stderr.trimEnd().split('\n'), [
    `toodles config check: ${file}:1: TOODLES_ALLOWED_EMAILS: "not-an-address" is not an e-mail address`,
    `toodles config check: ${file}:2: TOODLES_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace (got "loud")`,
    `toodles config check: ${file}:4: TOODLES_RECONNECT_INTERVAL_S: must be a number of seconds >= 0.1 (got "soon")`,
    `toodles config check: ${file}:5: WEBEX_BOT_TOKEN: set here; the token belongs only in /etc/toodles/webex-bot-token (install.sh --token-file FILE)`,
    `toodles config check: ${file}:6: warning: ignored: systemd does not take "export": write TOODLES_ADMIN_EMAILS=... without it`,
    `toodles config check: ${file}:8: TOODLES_CANARY_RESTART_AFTER: must be more than TOODLES_CANARY_REBUILD_AFTER (2), or 0 for never`,
    `toodles config check: ${file}: 5 problems: fix them before a restart or a reload`,
  ]);
  t.notMatch(r.stderr, TOKEN.slice(0, 20), 'the token is never printed');
  t.notMatch(r.stderr, PASSWORD, 'nor a password');
});

t.test('with the database-url credential beside the file, what a cluster needs is checked too', async (t) => {
  const dir = settingsDir(t);
  const file = join(dir, 'toodles.env');
  writeFileSync(join(dir, 'database-url'), `postgresql://toodles:${PASSWORD}@db.example.com:5432/toodles\n`);
  writeFileSync(file, 'TOODLES_INSTANCE=vm-a\n');
  const r = await check(file);
  t.equal(r.code, 78);
  t.match(
    r.stderr,
    `${file}: TOODLES_PREFERRED_INSTANCE: not set; with a database every instance must know which one answers while it is away`,
  );
  t.notMatch(r.stderr + r.stdout, PASSWORD);

  writeFileSync(file, 'TOODLES_INSTANCE=vm-a\nTOODLES_PREFERRED_INSTANCE=vm-a\n');
  t.equal((await check(file)).code, 0);
});

t.test('a file that cannot be read, or that systemd would refuse whole', async (t) => {
  const dir = settingsDir(t);
  const missing = await check(join(dir, 'missing.env'));
  t.equal(missing.code, 78);
  t.equal(missing.stderr, `toodles config check: ${join(dir, 'missing.env')}: cannot read it (no such file)\n`);

  const file = join(dir, 'toodles.env');
  writeFileSync(file, Buffer.concat([Buffer.from('A=1\nTOODLES_ALLOWED_EMAILS=caf'), Buffer.from([0xe9]), Buffer.from('@example.com\n')]));
  const notUtf8 = await check(file);
  t.equal(notUtf8.code, 78);
  t.equal(
    notUtf8.stderr,
    `toodles config check: ${file}:2: the value of TOODLES_ALLOWED_EMAILS is not valid UTF-8 (systemd refuses the whole file)\n`,
  );
});

t.test('the default file is /etc/toodles/toodles.env; anything but check [FILE] is a usage error', async (t) => {
  const r = await check();
  t.match(r.stdout + r.stderr, /^toodles config check: \/etc\/toodles\/toodles\.env: /);
  for (const args of [['config'], ['config', 'test'], ['config', 'check', 'a', 'b'], ['config', 'check', '--file']]) {
    const bad = await cli(args, {});
    t.equal(bad.code, 64, args.join(' '));
    t.match(bad.stderr, /^usage: toodles config check \[FILE\]/);
  }
});

t.test('the commands dir: each bad module named with its file; good ones listed in the ok line', async (t) => {
  const dir = settingsDir(t);
  const file = join(dir, 'toodles.env');
  const commandsDir = join(dir, 'commands.d');
  mkdirSync(commandsDir);
  writeFileSync(
    join(commandsDir, 'hello.mjs'),
    "export const apiVersion = 1;\nexport default { keyword: 'hello', description: 'greets', async run(ctx) { await ctx.reply({ markdown: 'hi' }); } };\n",
  );
  writeFileSync(file, `TOODLES_LOG_LEVEL=info\nTOODLES_COMMANDS_DIR=${commandsDir}\n`);
  const good = await check(file);
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, /; commands from modules: hello\n$/);

  writeFileSync(
    join(commandsDir, 'mine.mjs'),
    "export const apiVersion = 1;\nexport default { keyword: 'ping', description: 'mine', async run() {} };\n",
  );
  writeFileSync(
    join(commandsDir, 'old.mjs'),
    "export const apiVersion = 0;\nexport default { keyword: 'old', description: 'old', async run() {} };\n",
  );
  const bad = await check(file);
  t.equal(bad.code, 78);
  t.same(bad.stderr.trimEnd().split('\n'), [
    `toodles config check: ${file}:2: TOODLES_COMMANDS_DIR: ${commandsDir}/mine.mjs: claims \`ping\`, already taken by a built-in command`,
    `toodles config check: ${file}:2: TOODLES_COMMANDS_DIR: ${commandsDir}/old.mjs: is written for command API version 0; this toodles speaks version 1`,
    `toodles config check: ${file}: 2 problems: fix them before a restart or a reload`,
  ]);
});
