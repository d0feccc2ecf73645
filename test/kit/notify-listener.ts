/**
 * A stand-in for systemd's notification socket. Node cannot bind AF_UNIX datagram sockets, so a few
 * lines of python3 bind one at a temp path and print every datagram as one JSON string per line.
 * Point a daemon's NOTIFY_SOCKET at `path` and assert on what it sends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// Exits when its stdin closes, so a crashed test run leaves no listener behind.
const LISTENER_PY = `
import json, os, select, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
sys.stdout.write('"LISTENING"\\n')
sys.stdout.flush()
while True:
    ready, _, _ = select.select([s, sys.stdin], [], [])
    if s in ready:
        data = s.recv(65536)
        sys.stdout.write(json.dumps(data.decode('utf-8', 'replace')) + '\\n')
        sys.stdout.flush()
    if sys.stdin in ready and not os.read(sys.stdin.fileno(), 4096):
        break
`;

export interface Datagram {
  /** Date.now() when the test process read it. */
  at: number;
  /** The raw datagram, e.g. "READY=1\nMAINPID=123" (sd-notify may add fields). */
  text: string;
}

export interface NotifyListener {
  /** The socket path, for NOTIFY_SOCKET. */
  path: string;
  datagrams: Datagram[];
  /** Every assignment received, one per line of every datagram, in order ("STATUS=Online ..."). */
  lines(): string[];
  /** Resolves with the first line (already received or to come) matching the pattern. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startNotifyListener(): Promise<NotifyListener> {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-notify-'));
  const path = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', LISTENER_PY, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  const datagrams: Datagram[] = [];
  const waiters = new Set<() => void>();
  const lines = () => datagrams.flatMap((d) => d.text.split('\n').filter((l) => l.length > 0));

  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    let listening = false;
    rl.on('line', (raw) => {
      const text = JSON.parse(raw) as string;
      if (!listening && text === 'LISTENING') {
        listening = true;
        resolve();
        return;
      }
      datagrams.push({ at: Date.now(), text });
      for (const w of [...waiters]) w();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!listening) reject(new Error(`notify listener exited (${code}) before binding ${path}`));
    });
  });

  return {
    path,
    datagrams,
    lines,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const found = lines().find((l) => pattern.test(l));
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no notify datagram matching ${pattern} within ${timeoutMs} ms; got: ${JSON.stringify(lines())}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.stdin?.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
