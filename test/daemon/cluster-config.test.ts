/**
 * The cluster settings: a database URL from the `database-url` credential or TOODLES_DATABASE_URL,
 * the instance's name, and the preferred instance. Bad ones are one-line errors that never quote
 * the URL's password; checked on loadConfig and on the spawned binary (exit 78).
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EXIT_CONFIG, loadConfig } from '../../src/config.js';
import { runToExit } from '../kit/spawn-daemon.js';

const TOKEN = `${'0123456789abcdef'.repeat(3)}_PF84_11111111-2222-3333-4444-555555555555`;
const PASSWORD = 'db-Secret-77a1';
const URL_ = `postgresql://toodles:${PASSWORD}@db.example.com:5432/toodles?sslmode=verify-full`;
const scratch = mkdtempSync(join(tmpdir(), 'toodles-cluster-config-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

const problem = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig({ WEBEX_BOT_TOKEN: TOKEN, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

t.test('no URL: no cluster, nothing else required', async (t) => {
  t.equal(loadConfig({ WEBEX_BOT_TOKEN: TOKEN }).cluster, undefined);
  t.equal(
    loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_PREFERRED_INSTANCE: 'vm1' }).cluster,
    undefined,
    'a preferred instance alone is harmless',
  );
});

t.test('from the environment, the instance defaulting to the short host name', async (t) => {
  const c = loadConfig({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_DATABASE_URL: URL_, TOODLES_PREFERRED_INSTANCE: 'vm1' }).cluster;
  t.same(c, { databaseUrl: URL_, instance: hostname().split('.')[0], preferredInstance: 'vm1' });
  const named = loadConfig({
    WEBEX_BOT_TOKEN: TOKEN,
    TOODLES_DATABASE_URL: URL_,
    TOODLES_INSTANCE: 'vm-2',
    TOODLES_PREFERRED_INSTANCE: 'vm1',
  });
  t.equal(named.cluster?.instance, 'vm-2');
});

t.test('from the credential; in both places it is refused', async (t) => {
  const dir = join(scratch, 'creds');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'database-url'), `${URL_}\n`);
  const env = { CREDENTIALS_DIRECTORY: dir, TOODLES_PREFERRED_INSTANCE: 'vm1' };
  t.equal(loadConfig({ WEBEX_BOT_TOKEN: TOKEN, ...env }).cluster?.databaseUrl, URL_);
  const both = problem({ ...env, TOODLES_DATABASE_URL: URL_ });
  t.equal(both.setting, 'TOODLES_DATABASE_URL');
  t.match(both.message, /database-url credential/);
  t.notOk(both.message.includes(PASSWORD));
});

t.test('bad values: one line naming the setting, never the password', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ TOODLES_DATABASE_URL: URL_ }, /^TOODLES_PREFERRED_INSTANCE: not set/],
    [{ TOODLES_DATABASE_URL: URL_, TOODLES_PREFERRED_INSTANCE: 'vm 1' }, /^TOODLES_PREFERRED_INSTANCE: must be/],
    [{ TOODLES_DATABASE_URL: URL_, TOODLES_PREFERRED_INSTANCE: 'vm1', TOODLES_INSTANCE: 'x'.repeat(64) }, /^TOODLES_INSTANCE: must be/],
    [
      { TOODLES_DATABASE_URL: `mysql://u:${PASSWORD}@h/db`, TOODLES_PREFERRED_INSTANCE: 'vm1' },
      /^TOODLES_DATABASE_URL: must be a postgresql:\/\/ URL/,
    ],
    [{ TOODLES_DATABASE_URL: `host=h password=${PASSWORD}`, TOODLES_PREFERRED_INSTANCE: 'vm1' }, /^TOODLES_DATABASE_URL: is not a URL/],
    [
      { TOODLES_DATABASE_URL: `${URL_.replace('verify-full', 'maybe')}`, TOODLES_PREFERRED_INSTANCE: 'vm1' },
      /^TOODLES_DATABASE_URL: sslmode must be one of/,
    ],
  ];
  for (const [env, expected] of cases) {
    const err = problem(env);
    t.match(err.message, expected, err.message);
    t.notOk(err.message.includes(PASSWORD), 'no password');
    t.notOk(err.message.includes('\n'), 'one line');
  }
});

t.test('the binary exits 78 with one line and no password', async (t) => {
  const r = await runToExit({ WEBEX_BOT_TOKEN: TOKEN, TOODLES_DATABASE_URL: URL_ });
  t.equal(r.code, EXIT_CONFIG);
  t.match(r.stderr, /^toodles: bad configuration: TOODLES_PREFERRED_INSTANCE: not set[^\n]*\n$/);
  t.notOk(r.stderr.includes(PASSWORD) || r.stdout.includes(PASSWORD));
});
