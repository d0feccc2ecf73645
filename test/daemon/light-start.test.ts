/**
 * A daemon loads only what its configuration uses: `toodles run` as its own process against the
 * simulator, with a module-resolution hook that records every module it imports (and, at exit, every
 * CommonJS module it required). Without a database URL, a metrics address, a proxy, systemd or a
 * runtime directory, none of their modules is loaded; with a metrics address and a runtime directory,
 * theirs are (the hook sees what it should). Of the Webex SDK only the core, device and Mercury are
 * loaded, never its public plugins. Its first prune of the audit trail comes once it is online.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startSimulator } from '../../src/simulator/index.js';
import { ROOT, spawnDaemon } from '../kit/spawn-daemon.js';
import { eventually } from '../kit/wait.js';
t.setTimeout(120_000);

/** Modules an optional part brings, by where they resolve to. */
const OPTIONAL = {
  'the PostgreSQL client': '/node_modules/pg/',
  'the shared database': '/dist/src/database/database.js',
  'the PostgreSQL storage': '/dist/src/storage/postgres.js',
  'the cluster': '/dist/src/cluster/cluster.js',
  'prom-client': '/node_modules/prom-client/',
  'the metrics server': '/dist/src/metrics/server.js',
  'proxy-agent': '/node_modules/proxy-agent/',
  'the journal sink': '/dist/src/journal/sink.js',
  'sd-notify': '/node_modules/sd-notify/',
  'the control server': '/dist/src/control/server.js',
};

/** The SDK's public plugins and the conversation and encryption code they bring: toodles calls REST itself. */
const SDK_PLUGINS =
  /node_modules\/@webex\/(plugin-(people|rooms|memberships|messages|attachment-actions)|internal-plugin-(conversation|encryption))\//;

/**
 * NODE_OPTIONS with two preloads: an `--import` one whose resolve hook appends each module imported to
 * `record`, and a `--require` one that writes the CommonJS modules loaded to `required` at exit.
 */
function recorder(dir: string, record: string, required: string): string {
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
     export async function resolve(specifier, context, next) {
       const r = await next(specifier, context);
       appendFileSync(${JSON.stringify(record)}, r.url + '\\n');
       return r;
     }`,
  );
  const preload = join(dir, 'preload.mjs');
  writeFileSync(preload, `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`);
  const cjs = join(dir, 'preload.cjs');
  writeFileSync(
    cjs,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(required)}, Object.keys(require.cache).join('\\n')));`,
  );
  return `--require=${cjs} --import=${pathToFileURL(preload).href}`;
}

/** Runs the daemon until it has answered one ping; returns what it imported and its log. */
async function run(t: Test, env: Record<string, string>) {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const dir = mkdtempSync(join(tmpdir(), 'toodles-light-'));
  const record = join(dir, 'imported.txt');
  const requiredRecord = join(dir, 'required.txt');
  writeFileSync(record, '');
  const daemon = spawnDaemon({
    NODE_OPTIONS: recorder(dir, record, requiredRecord),
    WEBEX_BOT_TOKEN: sim.botToken,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_STATE_DIR: join(dir, 'state'),
    TOODLES_PROXY_URL: 'direct',
    ...env,
  });
  t.teardown(() => daemon.kill());
  await daemon.waitForLog('daemon.ready', undefined, 30_000);
  sim.postMessage({ from: 'alice@example.com', roomId: sim.directRoom('alice@example.com').id, text: 'ping' });
  await daemon.waitForLog('command.done', undefined, 15_000);
  await eventually('the first prune', () => daemon.logs().some((l) => l.event === 'storage.pruned'));
  const exit = await daemon.signal('SIGTERM');
  t.equal(exit.code, 0, 'stops cleanly');
  const imported = readFileSync(record, 'utf8');
  const required = readFileSync(requiredRecord, 'utf8');
  const loaded = (part: keyof typeof OPTIONAL) => imported.includes(OPTIONAL[part]);
  return { imported, required, loaded, logs: daemon.logs() };
}

t.test('nothing configured: none of the optional parts is loaded', async (t) => {
  const { imported, required, loaded, logs } = await run(t, {});
  t.ok(
    imported.includes('/dist/src/daemon/daemon.js') && imported.includes('/node_modules/better-sqlite3/'),
    'the hook saw the daemon and SQLite',
  );
  for (const part of Object.keys(OPTIONAL) as Array<keyof typeof OPTIONAL>) t.notOk(loaded(part), `${part} not loaded`);
  t.ok(required.includes('/dist/sdk/daemon.cjs'), 'the exit record saw the SDK, from the build’s bundle');
  t.same(
    required.split('\n').filter((p) => p.includes('/node_modules/@webex/')),
    [],
    'none of the SDK’s packages one by one',
  );
  // esbuild marks where each bundled module begins with its path.
  const bundled = (file: string) => readFileSync(join(ROOT, 'dist/sdk', file), 'utf8');
  t.ok(bundled('daemon.cjs').includes('node_modules/@webex/internal-plugin-mercury/'), 'the bundle holds Mercury');
  t.notMatch(bundled('daemon.cjs'), SDK_PLUGINS, 'and none of the SDK’s public plugins');
  t.match(bundled('with-plugins.cjs'), SDK_PLUGINS, 'which the test kits’ bundle holds');
  const online = logs.findIndex((l) => l.event === 'connection.state' && l.to === 'online');
  const pruned = logs.findIndex((l) => l.event === 'storage.pruned');
  t.ok(online >= 0 && pruned > online, 'the first prune comes once online');
});

t.test('a metrics address and a runtime directory: their parts are loaded, and only theirs', async (t) => {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'toodles-light-run-'));
  const { loaded } = await run(t, { TOODLES_METRICS_LISTEN: '127.0.0.1:0', TOODLES_RUNTIME_DIR: runtimeDir });
  for (const part of ['prom-client', 'the metrics server', 'the control server'] as const) t.ok(loaded(part), `${part} loaded`);
  for (const part of ['the PostgreSQL client', 'the cluster', 'proxy-agent', 'the journal sink', 'sd-notify'] as const) {
    t.notOk(loaded(part), `${part} not loaded`);
  }
});
