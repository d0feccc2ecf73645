/**
 * A real forward proxy for tests (issue 6): Debian's tinyproxy (apt packages `tinyproxy`, which pulls
 * in `tinyproxy-bin`), started in the foreground (-d) on a free loopback port with a generated config
 * in a temp dir, and stopped with SIGTERM. Its log proves which requests went through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait.js';

export const TINYPROXY_CANDIDATES = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy', '/usr/local/bin/tinyproxy'];

/** Path of the tinyproxy binary, or null (tests skip with a message naming the apt package). */
export function findTinyproxy(): string | null {
  return TINYPROXY_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export interface TinyproxyOptions {
  /**
   * Ports CONNECT may reach (tinyproxy's ConnectPort). Empty/unset: every port (tinyproxy allows all
   * ports when no ConnectPort line is present).
   */
  connectPorts?: number[];
  /** tinyproxy's Timeout (idle seconds before it closes a connection). Default 600. */
  timeoutSec?: number;
  /** require these proxy credentials (tinyproxy's BasicAuth) */
  basicAuth?: { user: string; pass: string };
}

export interface TinyproxyLogRequest {
  method: string;
  /** host:port for CONNECT, the absolute URI otherwise */
  target: string;
}

export interface Tinyproxy {
  readonly port: number;
  /** http://127.0.0.1:<port> (no credentials) */
  readonly url: string;
  readonly logFile: string;
  readonly configFile: string;
  /** the raw log */
  log(): Promise<string>;
  /** every "Request (file descriptor N): METHOD TARGET HTTP/1.1" line of the log, in order */
  requests(): Promise<TinyproxyLogRequest[]>;
  /** SIGTERM, wait for exit (SIGKILL after 3 s), remove the temp dir */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = addr && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export function parseTinyproxyRequests(log: string): TinyproxyLogRequest[] {
  const out: TinyproxyLogRequest[] = [];
  for (const m of log.matchAll(/Request \(file descriptor \d+\): (\S+) (\S+) HTTP\/\d\.\d/g)) {
    out.push({ method: m[1] ?? '', target: m[2] ?? '' });
  }
  return out;
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const bin = findTinyproxy();
  if (!bin) throw new Error('tinyproxy not found: apt-get install -y tinyproxy');
  const dir = await mkdtemp(join(tmpdir(), 'toodles-tinyproxy-'));
  const logFile = join(dir, 'tinyproxy.log');
  const configFile = join(dir, 'tinyproxy.conf');
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const lines = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      `Timeout ${options.timeoutSec ?? 600}`,
      `LogFile "${logFile}"`,
      'LogLevel Connect',
      'MaxClients 100',
      'Allow 127.0.0.1',
      'DisableViaHeader Yes',
      ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
      ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.pass}`] : []),
    ];
    await writeFile(configFile, `${lines.join('\n')}\n`);
    const child: ChildProcess = spawn(bin, ['-d', '-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    const deadline = Date.now() + 5000;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      if (await canConnect(port)) {
        ready = true;
        break;
      }
      await sleep(25);
    }
    if (!ready) {
      child.kill('SIGKILL');
      await exit;
      lastError = output;
      continue;
    }
    const stop = async (): Promise<void> => {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exit;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    };
    const log = async (): Promise<string> => {
      try {
        return await readFile(logFile, 'utf8');
      } catch {
        return '';
      }
    };
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      logFile,
      configFile,
      log,
      requests: async () => parseTinyproxyRequests(await log()),
      stop,
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`tinyproxy did not start: ${lastError}`);
}
