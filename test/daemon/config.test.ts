/**
 * Configuration, validated at start: every bad or missing setting makes `toodles run` exit 78 with
 * exactly one line on stderr that names the setting, no stack trace and never the token. Checked on
 * the spawned binary (what systemd sees) and, in detail, on loadConfig itself.
 */
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDirectories, ConfigError, EXIT_CONFIG, loadConfig, MAX_SETTING_LENGTH, shown } from '../../src/config.js';
import { startSimulator } from '../../src/simulator/index.js';
import { startNotifyListener } from '../kit/notify-listener.js';
import { runToExit, spawnDaemon } from '../kit/spawn-daemon.js';
t.setTimeout(120_000);

/** Shaped like a real bot token, long enough to pass the length check. */
const TOKEN = `${'0123456789abcdef'.repeat(3)}_PF84_11111111-2222-3333-4444-555555555555`;
const scratch = mkdtempSync(join(tmpdir(), 'toodles-config-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

const credDir = (name: string, content?: string, mode?: number): string => {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  if (content !== undefined) {
    writeFileSync(join(dir, 'webex-bot-token'), content);
    if (mode !== undefined) chmodSync(join(dir, 'webex-bot-token'), mode);
  }
  return dir;
};
const tokenIsDir = credDir('token-is-a-directory');
mkdirSync(join(tokenIsDir, 'webex-bot-token'));
// A directory that cannot be created, whoever runs the test (root included): its parent is a file.
writeFileSync(join(scratch, 'a-file'), '');
const underAFile = join(scratch, 'a-file', 'dir');

interface BadCase {
  name: string;
  env: Record<string, string>;
  /** The setting the one stderr line must name. */
  setting: string;
  /** Secrets the line must not contain (besides TOKEN). */
  secret?: string;
  /** A second name the line must carry. */
  alsoNames?: string;
}

// Unroutable Webex URLs: a case that wrongly passed validation would hang, then fail on its exit code.
const base = { WEBEX_BOT_TOKEN: TOKEN, TOODLES_WEBEX_U2C_URL: 'http://127.0.0.1:9/u2c', TOODLES_WEBEX_HYDRA_URL: 'http://127.0.0.1:9/v1' };

const BAD: BadCase[] = [
  { name: 'missing token', env: { ...base, WEBEX_BOT_TOKEN: '' }, setting: 'WEBEX_BOT_TOKEN' },
  { name: 'whitespace-only token', env: { ...base, WEBEX_BOT_TOKEN: '   \t ' }, setting: 'WEBEX_BOT_TOKEN' },
  {
    name: 'token with white space inside',
    env: { ...base, WEBEX_BOT_TOKEN: 'secretpart1234567890 secretpart0987654321' },
    setting: 'WEBEX_BOT_TOKEN',
    secret: 'secretpart',
  },
  { name: 'token too short', env: { ...base, WEBEX_BOT_TOKEN: 'shortsecret' }, setting: 'WEBEX_BOT_TOKEN', secret: 'shortsecret' },
  {
    name: 'credential directory without the token file',
    env: { ...base, WEBEX_BOT_TOKEN: '', CREDENTIALS_DIRECTORY: join(scratch, 'nonexistent') },
    setting: 'WEBEX_BOT_TOKEN',
  },
  {
    name: 'credential file that cannot be read (a directory)',
    env: { ...base, WEBEX_BOT_TOKEN: '', CREDENTIALS_DIRECTORY: tokenIsDir },
    setting: 'WEBEX_BOT_TOKEN',
  },
  {
    name: 'empty credential file',
    env: { ...base, WEBEX_BOT_TOKEN: '', CREDENTIALS_DIRECTORY: credDir('empty', '\n') },
    setting: 'webex-bot-token',
  },
  {
    name: 'TOODLES_RECONNECT_INTERVAL_S=abc',
    env: { ...base, TOODLES_RECONNECT_INTERVAL_S: 'abc' },
    setting: 'TOODLES_RECONNECT_INTERVAL_S',
  },
  {
    name: 'TOODLES_RECONNECT_INTERVAL_S=-1',
    env: { ...base, TOODLES_RECONNECT_INTERVAL_S: '-1' },
    setting: 'TOODLES_RECONNECT_INTERVAL_S',
  },
  { name: 'TOODLES_RECONNECT_INTERVAL_S=0', env: { ...base, TOODLES_RECONNECT_INTERVAL_S: '0' }, setting: 'TOODLES_RECONNECT_INTERVAL_S' },
  { name: 'TOODLES_DRAIN_TIMEOUT_S=abc', env: { ...base, TOODLES_DRAIN_TIMEOUT_S: 'abc' }, setting: 'TOODLES_DRAIN_TIMEOUT_S' },
  {
    name: 'TOODLES_DRAIN_TIMEOUT_S equal to the interval',
    env: { ...base, TOODLES_RECONNECT_INTERVAL_S: '5', TOODLES_DRAIN_TIMEOUT_S: '5' },
    setting: 'TOODLES_DRAIN_TIMEOUT_S',
  },
  {
    name: 'TOODLES_DRAIN_TIMEOUT_S above the interval',
    env: { ...base, TOODLES_RECONNECT_INTERVAL_S: '2.5', TOODLES_DRAIN_TIMEOUT_S: '3' },
    setting: 'TOODLES_DRAIN_TIMEOUT_S',
  },
  { name: 'TOODLES_WEBEX_U2C_URL=not-a-url', env: { ...base, TOODLES_WEBEX_U2C_URL: 'not-a-url' }, setting: 'TOODLES_WEBEX_U2C_URL' },
  { name: 'TOODLES_WEBEX_U2C_URL=ftp://x', env: { ...base, TOODLES_WEBEX_U2C_URL: 'ftp://x' }, setting: 'TOODLES_WEBEX_U2C_URL' },
  { name: 'TOODLES_WEBEX_HYDRA_URL=not-a-url', env: { ...base, TOODLES_WEBEX_HYDRA_URL: 'not-a-url' }, setting: 'TOODLES_WEBEX_HYDRA_URL' },
  { name: 'TOODLES_LOG_DIR=relative', env: { ...base, TOODLES_LOG_DIR: 'relative/logs' }, setting: 'TOODLES_LOG_DIR' },
  { name: 'TOODLES_STATE_DIR=relative', env: { ...base, TOODLES_STATE_DIR: 'state' }, setting: 'TOODLES_STATE_DIR' },
  { name: 'TOODLES_LOG_LEVEL=loud', env: { ...base, TOODLES_LOG_LEVEL: 'loud' }, setting: 'TOODLES_LOG_LEVEL' },
  { name: 'TOODLES_PROXY_URL=::bad', env: { ...base, TOODLES_PROXY_URL: '::bad' }, setting: 'TOODLES_PROXY_URL' },
  {
    name: 'a token in the environment as well as the credential (the env file overriding a rotated token)',
    env: { ...base, CREDENTIALS_DIRECTORY: credDir('both', `${TOKEN}\n`) },
    setting: 'WEBEX_BOT_TOKEN',
    alsoNames: 'webex-bot-token',
  },
  { name: 'TOODLES_LOG_DIR that cannot be created', env: { ...base, TOODLES_LOG_DIR: underAFile }, setting: 'TOODLES_LOG_DIR' },
  { name: 'TOODLES_STATE_DIR that cannot be created', env: { ...base, TOODLES_STATE_DIR: underAFile }, setting: 'TOODLES_STATE_DIR' },
  { name: 'a 5000-character TOODLES_LOG_LEVEL', env: { ...base, TOODLES_LOG_LEVEL: 'x'.repeat(5000) }, setting: 'TOODLES_LOG_LEVEL' },
  {
    name: 'TOODLES_WEBEX_U2C_URL with credentials that does not parse',
    env: { ...base, TOODLES_WEBEX_U2C_URL: 'https://user:s3cret-word@exa mple.com/u2c' },
    setting: 'TOODLES_WEBEX_U2C_URL',
    secret: 's3cret-word',
  },
  {
    name: 'TOODLES_WEBEX_HYDRA_URL with credentials and the wrong scheme',
    env: { ...base, TOODLES_WEBEX_HYDRA_URL: 'ftp://user:s3cret-word@example.com/v1' },
    setting: 'TOODLES_WEBEX_HYDRA_URL',
    secret: 's3cret-word',
  },
  {
    name: 'HTTPS_PROXY with a password that is not a URL',
    env: { ...base, HTTPS_PROXY: 'http://user:hunter2-secret@' },
    setting: 'HTTPS_PROXY',
    secret: 'hunter2-secret',
  },
];

t.test('each bad or missing setting: exit 78, one line on stderr naming it, no stack, no secret', async (t) => {
  // Each run is a short-lived process (~0.3 s); a few at a time keeps the file fast on 2 cores.
  const results = new Map<string, Awaited<ReturnType<typeof runToExit>>>();
  for (let i = 0; i < BAD.length; i += 4) {
    const batch = BAD.slice(i, i + 4);
    const done = await Promise.all(batch.map((c) => runToExit(c.env, 20_000)));
    batch.forEach((c, j) => results.set(c.name, done[j]!));
  }
  for (const c of BAD) {
    const r = results.get(c.name)!;
    t.test(c.name, async (t) => {
      t.equal(r.code, EXIT_CONFIG, 'exit status 78');
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      t.equal(lines.length, 1, `exactly one line on stderr: ${JSON.stringify(r.stderr)}`);
      t.ok(r.stderr.endsWith('\n'), 'the line is terminated');
      t.ok(lines[0]?.includes(c.setting), `the line names ${c.setting}: ${lines[0]}`);
      if (c.alsoNames) t.ok(lines[0]?.includes(c.alsoNames), `the line also names ${c.alsoNames}`);
      t.ok((lines[0]?.length ?? 0) < 400, `the line is short (${lines[0]?.length} characters)`);
      t.notMatch(r.stderr, /\n\s+at |Error:|node:internal/, 'no stack trace');
      t.equal(r.stdout, '', 'nothing on stdout (the daemon never started)');
      for (const secret of [TOKEN, TOKEN.split('_')[0]!, ...(c.secret ? [c.secret] : [])]) {
        t.notOk(r.stderr.includes(secret), 'the line does not show the secret');
      }
    });
  }
});

t.test('decimal intervals are accepted by the binary (it starts, then stops on SIGTERM)', async (t) => {
  const d = spawnDaemon({ ...base, TOODLES_RECONNECT_INTERVAL_S: '2.5', TOODLES_DRAIN_TIMEOUT_S: '0.5' });
  t.teardown(() => d.kill());
  const start = await d.waitForLog('daemon.start', undefined, 15_000);
  t.equal(start.reconnectIntervalMs, 2500);
  t.equal(start.drainTimeoutMs, 500);
  const exit = await d.signal('SIGTERM', 20_000);
  t.equal(exit.code, 0);
  t.equal(d.stderr(), '');
});

t.test('the token from $CREDENTIALS_DIRECTORY/webex-bot-token works: READY against the simulator', async (t) => {
  const sim = await startSimulator({ port: 0 });
  const notify = await startNotifyListener();
  t.teardown(async () => {
    await notify.close();
    await sim.stop();
  });
  // As systemd's LoadCredential leaves it: a read-only file, here with a trailing newline.
  const dir = credDir('good', `${sim.botToken}\n`, 0o400);
  const d = spawnDaemon({
    CREDENTIALS_DIRECTORY: dir,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_PROXY_URL: 'direct',
    NOTIFY_SOCKET: notify.path,
  });
  t.teardown(() => d.kill());
  await notify.waitFor(/^READY=1$/, 30_000);
  t.pass(`READY=1 after ${((Date.now() - d.startedAt) / 1000).toFixed(2)} s`);
  t.equal(sim.devices().filter((x) => !x.deleted).length, 1, 'signed in and registered with the credential');
  const exit = await d.signal('SIGTERM', 20_000);
  t.equal(exit.code, 0);
  for (const text of [d.stdout(), d.stderr(), notify.lines().join('\n')]) {
    t.notOk(text.includes(sim.botToken), 'the credential never shows up in output');
  }
});

t.test('loadConfig, unit by unit', async (t) => {
  const problem = (env: Record<string, string>): ConfigError => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err;
      throw err;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  };

  t.test('defaults', async (t) => {
    const c = loadConfig({ WEBEX_BOT_TOKEN: TOKEN });
    t.equal(c.token, TOKEN);
    t.equal(c.u2cUrl, 'https://u2c.wbx2.com/u2c/api/v1');
    t.equal(c.hydraUrl, 'https://webexapis.com/v1');
    t.equal(c.reconnectIntervalMs, 600_000);
    t.equal(c.drainTimeoutMs, 10_000);
    t.equal(c.logLevel, 'info');
    t.equal(c.logDir, undefined);
    t.equal(c.stateDir, undefined);
  });

  t.test('decimals, trimming and case', async (t) => {
    const c = loadConfig({
      WEBEX_BOT_TOKEN: `  ${TOKEN}\n`,
      TOODLES_RECONNECT_INTERVAL_S: ' 2.5 ',
      TOODLES_DRAIN_TIMEOUT_S: '0.25',
      TOODLES_LOG_LEVEL: 'DEBUG',
      TOODLES_WEBEX_U2C_URL: 'http://127.0.0.1:8080/u2c/api/v1/',
      TOODLES_LOG_DIR: '/var/log/toodles',
      TOODLES_STATE_DIR: '/var/lib/toodles',
    });
    t.equal(c.token, TOKEN, 'surrounding white space is not part of the token');
    t.equal(c.reconnectIntervalMs, 2500);
    t.equal(c.drainTimeoutMs, 250);
    t.equal(c.logLevel, 'debug');
    t.equal(c.u2cUrl, 'http://127.0.0.1:8080/u2c/api/v1', 'trailing slash dropped');
    t.equal(c.logDir, '/var/log/toodles');
    t.equal(c.stateDir, '/var/lib/toodles');
    t.equal(loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_DRAIN_TIMEOUT_S: '0' }).drainTimeoutMs, 0, 'a zero drain is allowed');
  });

  t.test('the credential file, and which source wins', async (t) => {
    const dir = credDir('unit', `${TOKEN}\n`);
    t.equal(loadConfig({ CREDENTIALS_DIRECTORY: dir }).token, TOKEN);
    const other = `${'f'.repeat(48)}_PF84_11111111-2222-3333-4444-555555555555`;
    const both = problem({ CREDENTIALS_DIRECTORY: dir, WEBEX_BOT_TOKEN: other });
    t.equal(both.setting, 'WEBEX_BOT_TOKEN', 'a token in both places is refused, naming the variable');
    t.match(both.message, /webex-bot-token credential/, 'and the credential');
    t.notOk(both.message.includes(other) || both.message.includes(TOKEN), 'showing neither token');
    t.equal(
      loadConfig({ CREDENTIALS_DIRECTORY: dir, WEBEX_BOT_TOKEN: ' ' }).token,
      TOKEN,
      'a blank WEBEX_BOT_TOKEN falls back to the credential',
    );
    const noCredential = credDir('no-credential');
    t.equal(
      loadConfig({ CREDENTIALS_DIRECTORY: noCredential, WEBEX_BOT_TOKEN: other }).token,
      other,
      'other credentials alone do not hide WEBEX_BOT_TOKEN',
    );
  });

  t.test('each error names its setting', async (t) => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'WEBEX_BOT_TOKEN'],
      [{ WEBEX_BOT_TOKEN: TOKEN, TOODLES_RECONNECT_INTERVAL_S: '1e3' }, 'TOODLES_RECONNECT_INTERVAL_S'],
      [{ WEBEX_BOT_TOKEN: TOKEN, TOODLES_RECONNECT_INTERVAL_S: '0.05' }, 'TOODLES_RECONNECT_INTERVAL_S'],
      [{ WEBEX_BOT_TOKEN: TOKEN, TOODLES_RECONNECT_INTERVAL_S: 'Infinity' }, 'TOODLES_RECONNECT_INTERVAL_S'],
      [{ WEBEX_BOT_TOKEN: TOKEN, TOODLES_DRAIN_TIMEOUT_S: '-0.5' }, 'TOODLES_DRAIN_TIMEOUT_S'],
      [{ WEBEX_BOT_TOKEN: TOKEN, TOODLES_WEBEX_HYDRA_URL: 'file:///etc/passwd' }, 'TOODLES_WEBEX_HYDRA_URL'],
      [{ WEBEX_BOT_TOKEN: TOKEN, TOODLES_LOG_DIR: './logs' }, 'TOODLES_LOG_DIR'],
      [{ WEBEX_BOT_TOKEN: TOKEN, TOODLES_LOG_LEVEL: 'verbose' }, 'TOODLES_LOG_LEVEL'],
      [{ WEBEX_BOT_TOKEN: TOKEN, TOODLES_PROXY_URL: '::bad' }, 'TOODLES_PROXY_URL'],
    ];
    for (const [env, setting] of cases) {
      const err = problem(env);
      t.equal(err.setting, setting, `${JSON.stringify(env)} -> ${err.message}`);
      t.ok(err.message.startsWith(`${setting}: `), 'the message leads with the setting');
      t.notOk(err.message.includes('\n'), 'one line');
      t.notOk(err.message.includes(TOKEN), 'no token in the message');
    }
  });

  t.test('TOODLES_RECONNECT_INTERVAL_S=2 on its own (the spec says tests can use 2) is accepted', async (t) => {
    const config = loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_RECONNECT_INTERVAL_S: '2' });
    t.equal(config.drainTimeoutMs, 1_000, 'the unset drain shrinks to half the interval');
  });

  t.test('lengths are capped and a quoted value never shows URL credentials', async (t) => {
    t.equal(problem({ WEBEX_BOT_TOKEN: TOKEN, NO_PROXY: 'a,'.repeat(MAX_SETTING_LENGTH) }).setting, 'NO_PROXY');
    t.equal(problem({ WEBEX_BOT_TOKEN: 'x'.repeat(MAX_SETTING_LENGTH + 1) }).setting, 'WEBEX_BOT_TOKEN');
    t.equal(
      loadConfig({ WEBEX_BOT_TOKEN: TOKEN, NO_PROXY: 'a'.repeat(MAX_SETTING_LENGTH) }).proxy.noProxy.length,
      1,
      'the cap itself is allowed',
    );
    t.equal(shown('http://u:p@host:1/x'), '"http://[redacted]@host:1/x"');
    t.equal(shown('HTTPS://user:pa@ss@host'), '"HTTPS://[redacted]@host"', 'up to the last @ of the authority');
    t.equal(shown('soon'), '"soon"');
    t.equal(shown('y'.repeat(200)), JSON.stringify(`${'y'.repeat(80)}...`), 'long values are cut');
  });

  t.test('the catch-up max age: an hour unless set, 0 turns catch-up off, anything else is a one-line error', async (t) => {
    t.equal(loadConfig({ WEBEX_BOT_TOKEN: TOKEN }).catchUpMaxAgeMs, 3_600_000);
    t.equal(loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_CATCHUP_MAX_AGE_S: '0' }).catchUpMaxAgeMs, 0);
    t.equal(loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_CATCHUP_MAX_AGE_S: '900' }).catchUpMaxAgeMs, 900_000);
    for (const bad of ['an hour', '-5', '1h']) {
      const err = problem({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_CATCHUP_MAX_AGE_S: bad });
      t.equal(err.setting, 'TOODLES_CATCHUP_MAX_AGE_S');
      t.match(err.message, /must be a number of seconds >= 0/);
    }
  });

  t.test('the canary thresholds: rebuild after 2, restart after 3 unless set; 0 for never; restart after rebuild', async (t) => {
    t.same(loadConfig({ WEBEX_BOT_TOKEN: TOKEN }).canary, { rebuildAfter: 2, restartAfter: 3 });
    t.same(loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_CANARY_REBUILD_AFTER: '0', TOODLES_CANARY_RESTART_AFTER: '1' }).canary, {
      rebuildAfter: 0,
      restartAfter: 1,
    });
    t.same(loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_CANARY_REBUILD_AFTER: '5', TOODLES_CANARY_RESTART_AFTER: '0' }).canary, {
      rebuildAfter: 5,
      restartAfter: 0,
    });
    for (const [setting, value, why] of [
      ['TOODLES_CANARY_REBUILD_AFTER', 'two', /whole number of failures in a row, 0 for never \(got "two"\)/],
      ['TOODLES_CANARY_RESTART_AFTER', '-1', /whole number/],
      ['TOODLES_CANARY_RESTART_AFTER', '2', /must be more than TOODLES_CANARY_REBUILD_AFTER \(2\), or 0 for never/],
    ] as const) {
      const err = problem({ WEBEX_BOT_TOKEN: TOKEN, [setting]: value });
      t.equal(err.setting, setting);
      t.match(err.message, why);
    }
  });

  t.test('TOODLES_ENV_FILE, the file a reload reads: an absolute path or none', async (t) => {
    t.equal(loadConfig({ WEBEX_BOT_TOKEN: TOKEN }).envFile, undefined);
    t.equal(loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_ENV_FILE: '/etc/toodles/toodles.env' }).envFile, '/etc/toodles/toodles.env');
    t.equal(problem({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_ENV_FILE: 'toodles.env' }).setting, 'TOODLES_ENV_FILE');
  });

  t.test('command modules: none without TOODLES_COMMANDS_DIR; they read only the TOODLES_MODULE_* settings', async (t) => {
    t.same(loadConfig({ WEBEX_BOT_TOKEN: TOKEN }).modules, { dir: undefined, settings: {} });
    const c = loadConfig({
      WEBEX_BOT_TOKEN: TOKEN,
      TOODLES_COMMANDS_DIR: ' /etc/toodles/commands.d ',
      TOODLES_MODULE_ONCALL_ROSTER: '/etc/toodles/roster.json',
      TOODLES_ADMIN_EMAILS: 'admin@example.com',
    });
    t.same(c.modules, { dir: '/etc/toodles/commands.d', settings: { TOODLES_MODULE_ONCALL_ROSTER: '/etc/toodles/roster.json' } });
    const err = problem({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_COMMANDS_DIR: 'commands.d' });
    t.equal(err.message, 'TOODLES_COMMANDS_DIR: must be an absolute path (got "commands.d")');
  });

  t.test('access and command settings: lists, case, defaults', async (t) => {
    const none = loadConfig({ WEBEX_BOT_TOKEN: TOKEN });
    t.same(none.access, { emails: [], domains: [], rooms: [] });
    t.same(none.commands, { adminEmails: [] });
    t.equal(none.activityDays, 365);
    const c = loadConfig({
      WEBEX_BOT_TOKEN: TOKEN,
      TOODLES_ALLOWED_EMAILS: ' Boss@Partner.org , pinger@webex.bot,',
      TOODLES_ALLOWED_DOMAINS: 'Example.com,@corp.example',
      TOODLES_ALLOWED_ROOMS: 'Y2lzY29zcGFyazovL3VzL1JPT00vYWJj,Y2lzY29zcGFyazovL3VzL1JPT00vZGVm',
      TOODLES_ADMIN_EMAILS: 'Admin@Example.com',
      TOODLES_TESTING_ROOM: 'Y2lzY29zcGFyazovL3VzL1JPT00vYWJj',
      TOODLES_TESTING_ROOMS: 'Y2lzY29zcGFyazovL3VzL1JPT00vZGVm',
      TOODLES_ACTIVITY_DAYS: '90',
    });
    t.same(c.access, {
      emails: ['boss@partner.org', 'pinger@webex.bot'],
      domains: ['example.com', 'corp.example'],
      rooms: ['Y2lzY29zcGFyazovL3VzL1JPT00vYWJj', 'Y2lzY29zcGFyazovL3VzL1JPT00vZGVm'],
    });
    t.same(c.commands, {
      adminEmails: ['admin@example.com'],
      testingRoom: 'Y2lzY29zcGFyazovL3VzL1JPT00vYWJj',
      testingRooms: ['Y2lzY29zcGFyazovL3VzL1JPT00vZGVm'],
    });
    t.equal(c.activityDays, 90);
  });

  t.test('access and command settings: a bad value names its setting', async (t) => {
    const bad: Array<[string, string]> = [
      ['TOODLES_ALLOWED_EMAILS', 'alice'],
      ['TOODLES_ALLOWED_DOMAINS', 'not a domain'],
      ['TOODLES_ALLOWED_ROOMS', 'room with spaces'],
      ['TOODLES_ADMIN_EMAILS', 'admin@'],
      ['TOODLES_TESTING_ROOM', 'a,b'],
      ['TOODLES_TESTING_ROOMS', 'x y'],
      ['TOODLES_ACTIVITY_DAYS', '0'],
      ['TOODLES_ACTIVITY_DAYS', '7d'],
    ];
    for (const [setting, value] of bad) {
      let caught: unknown;
      try {
        loadConfig({ WEBEX_BOT_TOKEN: TOKEN, [setting]: value });
      } catch (err) {
        caught = err;
      }
      t.ok(caught instanceof ConfigError && caught.setting === setting && !caught.message.includes('\n'), `${setting}=${value}`);
    }
  });

  t.test('checkDirectories: missing directories are created; unusable ones name their setting', async (t) => {
    const fresh = join(scratch, 'fresh', 'state');
    checkDirectories({ stateDir: fresh, logDir: undefined });
    t.ok(statSync(fresh).isDirectory(), 'created');
    t.same(readdirSync(fresh), [], 'the probe file is gone');
    for (const setting of ['TOODLES_LOG_DIR', 'TOODLES_STATE_DIR'] as const) {
      const dirs = setting === 'TOODLES_LOG_DIR' ? { logDir: underAFile } : { stateDir: underAFile };
      let err: unknown;
      try {
        checkDirectories(dirs);
      } catch (e) {
        err = e;
      }
      t.ok(err instanceof ConfigError && err.setting === setting, `${setting}: ${(err as Error).message}`);
      t.match((err as Error).message, /ENOTDIR/, 'says why');
    }
  });

  t.test('a token without the Webex shape (<secret>_<cluster>_<org>) is refused at start', async (t) => {
    let setting: string | undefined;
    try {
      loadConfig({ WEBEX_BOT_TOKEN: 'abcdefghijklmnopqrstuvwxyz0123' });
    } catch (err) {
      if (err instanceof ConfigError) setting = err.setting;
    }
    t.equal(setting, 'WEBEX_BOT_TOKEN', 'refused, naming WEBEX_BOT_TOKEN');
  });
});
