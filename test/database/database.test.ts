import t from 'tap';
import pino from 'pino';
import { Database, DatabaseUnavailableError } from '../../src/database/database.js';
import { migrate } from '../../src/database/migrate.js';
import { PG_PASSWORD, startPostgres } from '../kit/postgres.js';
import { captureLog } from '../kit/log-capture.js';
import { sleep } from '../kit/wait.js';

const pgServer = await startPostgres();
t.teardown(() => pgServer.close());

function open(database: string, extra: Partial<ConstructorParameters<typeof Database>[0]> = {}) {
  const { logger, lines } = captureLog();
  const db = new Database({
    url: pgServer.url(database),
    log: logger,
    applicationName: 'toodles-test',
    probeMinMs: 50,
    probeMaxMs: 200,
    ...extra,
  });
  return { db, lines };
}

t.test('queries, and the target never shows the password', async (t) => {
  const { db } = open(await pgServer.createDatabase());
  t.teardown(() => db.close());
  const rows = await db.query<{ n: number }>('test', 'SELECT 1 + $1::int AS n', [2]);
  t.same(rows, [{ n: 3 }]);
  t.equal(db.target, `127.0.0.1:${pgServer.port}/${db.target.split('/')[1]}`);
  t.notOk(JSON.stringify(db.status()).includes(PG_PASSWORD));
  await t.rejects(db.query('bad', 'SELECT * FROM nowhere'), /nowhere/, "a query error is the query's");
  t.equal(db.status().health, 'up', 'and leaves the database up');
});

t.test('migrations: two instances at once apply each step once', async (t) => {
  const name = await pgServer.createDatabase();
  const dbs = [open(name).db, open(name).db, open(name).db];
  t.teardown(() => Promise.all(dbs.map((d) => d.close())));
  const steps = [
    { id: 'a-1', sql: 'CREATE TABLE a (x int)' },
    { id: 'a-2', sql: 'ALTER TABLE a ADD COLUMN y int' },
  ];
  const applied = await Promise.all(dbs.map((d) => migrate(d, steps)));
  t.same(applied.flat().sort(), ['a-1', 'a-2'], 'each step applied by exactly one');
  t.same(await migrate(dbs[0]!, [...steps, { id: 'a-3', sql: 'CREATE INDEX a_x ON a(x)' }]), ['a-3'], 'a later step alone');
  const rows = await dbs[0]!.query<{ id: string }>('list', 'SELECT id FROM toodles_migrations ORDER BY id');
  t.same(
    rows.map((r) => r.id),
    ['a-1', 'a-2', 'a-3'],
  );
});

t.test('down while the server is stopped, up again by itself after it starts', async (t) => {
  const { db, lines } = open(await pgServer.createDatabase());
  t.teardown(() => db.close());
  const seen: string[] = [];
  db.onHealth((h) => seen.push(h));
  await db.query('warm', 'SELECT 1');
  await pgServer.stop();
  await t.rejects(db.query('during', 'SELECT 1'), DatabaseUnavailableError);
  t.equal(db.status().health, 'down');
  const started = Date.now();
  await t.rejects(db.query('while down', 'SELECT 1'), DatabaseUnavailableError);
  t.ok(Date.now() - started < 50, 'while down a query fails at once');
  await pgServer.start();
  const deadline = Date.now() + 10_000;
  while (!db.isUp && Date.now() < deadline) await sleep(20);
  t.ok(db.isUp, 'the probe brought it back');
  t.same(await db.query('after', 'SELECT 2 AS n'), [{ n: 2 }]);
  t.same(seen, ['down', 'up']);
  t.ok(lines.some((l) => l.event === 'database.down'));
  t.ok(lines.some((l) => l.event === 'database.up' && typeof l.downMs === 'number'));
  t.notOk(JSON.stringify(lines).includes(PG_PASSWORD), 'no password in the log');
});

t.test('a frozen server: the query is abandoned in time and the state goes down', async (t) => {
  const { db } = open(await pgServer.createDatabase(), { queryTimeoutMs: 300 });
  t.teardown(() => db.close());
  await db.query('warm', 'SELECT 1');
  pgServer.freeze();
  const started = Date.now();
  await t.rejects(db.query('frozen', 'SELECT 1'), DatabaseUnavailableError);
  const took = Date.now() - started;
  pgServer.thaw();
  t.ok(took < 1_000, `gave up after ${took} ms`);
  const deadline = Date.now() + 10_000;
  while (!db.isUp && Date.now() < deadline) await sleep(20);
  t.ok(db.isUp, 'back once the server answers');
});

t.test('TLS: verify-full against the server certificate', async (t) => {
  const tls = await startPostgres({ tls: true });
  t.teardown(() => tls.close());
  const name = await tls.createDatabase();
  const db = new Database({
    url: tls.url(name, { sslmode: 'verify-full', sslrootcert: tls.caFile! }),
    log: pino({ enabled: false }),
    applicationName: 't',
  });
  t.teardown(() => db.close());
  const [row] = await db.query<{ ssl: boolean }>('tls', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  t.equal(row?.ssl, true, 'the connection is encrypted');
  const wrongCa = new Database({
    url: tls.url(name, { sslmode: 'verify-full', sslrootcert: '/etc/ssl/certs/ca-certificates.crt' }),
    log: pino({ enabled: false }),
    applicationName: 't',
  });
  t.teardown(() => wrongCa.close());
  await t.rejects(wrongCa.query('tls', 'SELECT 1'), 'a certificate the CA did not sign is refused');
});
