/**
 * A real PostgreSQL for tests: Debian's server binaries, a throwaway cluster in a temp directory, run
 * as an unprivileged user (the `postgres` account when the tests run as root, since the server
 * refuses root), on a free loopback port with password authentication. Stop, restart and freeze
 * stand for the database outages the daemon has to live through.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sleep } from './wait.js';

export interface TestPostgres {
  port: number;
  /** A URL for `database` (created by createDatabase) as the test role, password included. */
  url(database: string, params?: Record<string, string>): string;
  createDatabase(name?: string): Promise<string>;
  /** Fast shutdown: every connection is dropped, new ones are refused until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** SIGSTOP the server: connections stay open and nothing answers (a hung database). */
  freeze(): void;
  thaw(): void;
  /** The server's PEM certificate when started with tls, for sslrootcert. */
  caFile?: string;
  close(): Promise<void>;
}

export const PG_USER = 'toodles_test';
export const PG_PASSWORD = 'pg-secret-8d1f4c2a';

/** The newest installed server's bin directory (Debian keeps them outside PATH). */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  return versions[0] && join(root, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Signals the postmaster and its backends (each backend is a process group of its own). */
function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  const pids = [child.pid!];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      // Field 4 of stat is the parent pid; the command name before it may hold spaces, hence the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === child.pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Runs the server's tools as `postgres` when we are root; as ourselves otherwise. */
function asServerUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

export async function startPostgres(opts: { tls?: boolean; settings?: Record<string, string> } = {}): Promise<TestPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  const owner = asServerUser();
  const dir = mkdtempSync(join(tmpdir(), 'toodles-pg-'));
  chmodSync(dir, 0o700);
  if (owner.uid !== undefined) chownSync(dir, owner.uid, owner.gid!);
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${PG_PASSWORD}\n`);
  if (owner.uid !== undefined) chownSync(pwfile, owner.uid, owner.gid!);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(join(bin, cmd), args, { ...owner, encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  run('initdb', [
    '-D',
    data,
    '-U',
    PG_USER,
    '--pwfile',
    pwfile,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  let caFile: string | undefined;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    fsync: 'off',
    max_connections: '100',
    ...opts.settings,
  };
  if (opts.tls) {
    const key = join(data, 'server.key');
    const crt = join(data, 'server.crt');
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        crt,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    chmodSync(key, 0o600);
    if (owner.uid !== undefined) for (const f of [key, crt]) chownSync(f, owner.uid, owner.gid!);
    caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, readFileSync(crt));
    Object.assign(settings, { ssl: 'on', ssl_cert_file: crt, ssl_key_file: key });
  }
  const port = await freePort();
  let server: ChildProcess | undefined;

  // Idempotent: a test's teardown may start a server the test already started again.
  const start = async () => {
    if (server && server.exitCode === null) return;
    const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const child = spawn(join(bin, 'postgres'), args, { ...owner, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const orphaned = () => signal(child, 'SIGKILL');
    process.once('exit', orphaned);
    child.once('exit', () => process.off('exit', orphaned));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    server = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${stderr}`);
      const client = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (err) {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not start: ${(err as Error).message}\n${stderr}`);
        await sleep(100);
      }
    }
  };
  const stop = async () => {
    const child = server;
    server = undefined;
    if (!child || child.exitCode !== null) return;
    signal(child, 'SIGCONT');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT'); // fast shutdown: active connections are terminated
    await exited;
  };
  const url = (database: string, params: Record<string, string> = {}) => {
    const query = new URLSearchParams(params).toString();
    return `postgresql://${PG_USER}:${PG_PASSWORD}@${opts.tls ? 'localhost' : '127.0.0.1'}:${port}/${database}${query ? `?${query}` : ''}`;
  };
  let databases = 0;

  await start();
  return {
    port,
    url,
    caFile,
    async createDatabase(name = `t${process.pid}_${++databases}`) {
      const client = new pg.Client({ connectionString: url('postgres', opts.tls ? { sslmode: 'no-verify' } : {}) });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return name;
    },
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
    freeze: () => server && signal(server, 'SIGSTOP'),
    thaw: () => server && signal(server, 'SIGCONT'),
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
