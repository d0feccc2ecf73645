/**
 * What the real-systemd tests share: a nested systemd 252 booted as PID 1 of fresh namespaces over a
 * copy-on-write overlay of / (nested-systemd.sh), the Webex simulator in the test process, and toodles
 * installed in it by install.sh. Each test file boots its own, so the files run side by side.
 *
 * The nested systemd shares the host's network namespace so the daemon can reach the simulator on
 * 127.0.0.1 and npm can fill any gap in its cache; everything else it does stays in its own namespaces
 * and overlay. Needs root, overlayfs and cgroup2 (the files skip otherwise, saying which). Env:
 *   TOODLES_E2E_SOURCE   source tree install.sh builds from (default: this repository)
 *   KEEP_CONSOLE=FILE    keep the nested systemd's console log there (read by nested-systemd.sh down)
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { ROOT } from '../kit/spawn-daemon.js';
import { sleep } from '../kit/wait.js';

export { ROOT };
export const SRC = resolve(process.env.TOODLES_E2E_SOURCE ?? ROOT);
export const UNIT = 'toodles.service';
const HARNESS = join(ROOT, 'test/_systemd/nested-systemd.sh');

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (boots a nested systemd in new namespaces)';
  if (!existsSync('/lib/systemd/systemd')) return 'systemd is not installed (/lib/systemd/systemd)';
  let fs = '';
  try {
    fs = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    /* unreadable: treated as missing */
  }
  if (!/\boverlay\b/.test(fs)) return 'no overlayfs in /proc/filesystems';
  if (!/\bcgroup2\b/.test(readFileSync('/proc/self/mounts', 'utf8'))) return 'no cgroup2 hierarchy mounted';
  return undefined;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export const fmt = (s: number) => s.toFixed(2);
/** Now in seconds, as journalctl's `--since @S` reads it. */
export const nowS = () => Date.now() / 1000;

/** Reads with `read` every `everyMs` until `ready` holds of the reading; the last reading once `timeoutMs` is over. */
export async function pollUntil<T>(read: () => Promise<T>, ready: (v: T) => boolean, timeoutMs: number, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let v = await read();
  while (!ready(v) && Date.now() < until) {
    await sleep(everyMs);
    v = await read();
  }
  return v;
}

/** A nested systemd to install toodles in, and the simulator it talks to. */
export interface Rig {
  sim: Simulator;
  /** bash -c CMD inside the nested systemd, as root with a clean environment. */
  sh: (cmd: string, opts?: { input?: string; timeoutMs?: number }) => Promise<RunResult>;
  /** `systemctl show` of the unit, as a record. */
  show: (props: string) => Promise<Record<string, string>>;
  /** `show(props)` again every 200 ms until `ready` holds of it; the last reading once timeoutMs is over. */
  showWhen: (props: string, ready: (p: Record<string, string>) => boolean, timeoutMs: number) => Promise<Record<string, string>>;
  /** The unit's journal since `since` (seconds), messages only. */
  journal: (since: number) => Promise<string>;
  /** alice says `text` in her direct room; resolves with the bot's threaded reply (or throws after timeoutMs). */
  ask: (text: string, timeoutMs?: number) => ReturnType<Simulator['waitForBotMessage']>;
  answersPing: (t: Test) => Promise<void>;
  /** After a start that must fail for good: the unit failed with this exit status and was never restarted. */
  failedWithoutRestarts: (t: Test, exitStatus: string) => Promise<Record<string, string>>;
  latestDevice: () => ReturnType<Simulator['devices']>[number] | undefined;
  /** A figure worth reading in the output: a comment now, and in the summary at the end. */
  figure: (line: string) => void;
}

/**
 * Boots a nested systemd with a simulator for it, runs `main` on them, and tears both down. Skips the
 * file, saying why, where a nested systemd cannot run.
 */
export async function withNestedSystemd(main: (rig: Rig) => Promise<void>): Promise<void> {
  const reason = skipReason();
  if (reason) {
    t.plan(0, reason);
    return;
  }
  t.setTimeout(20 * 60_000); // ~6 min on 2 loaded cores, two release builds from scratch among them
  const W = mkdtempSync(join(tmpdir(), 'toodles-sd.'));
  const sim = await startSimulator({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    await run(HARNESS, ['down', W], { timeoutMs: 60_000 });
    await sim.stop();
  });
  const figures: string[] = [];
  const room = sim.directRoom('alice@example.com');
  const sh: Rig['sh'] = (cmd, opts = {}) => run(HARNESS, ['exec', W, '--', 'bash', '-c', cmd], opts);
  const show: Rig['show'] = async (props) => {
    const r = await sh(`systemctl show ${UNIT} -p ${props}`);
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  };
  const showWhen: Rig['showWhen'] = (props, ready, timeoutMs) => pollUntil(() => show(props), ready, timeoutMs);
  const ask: Rig['ask'] = async (text, timeoutMs = 15_000) => {
    const msg = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text });
    return sim.waitForBotMessage((m) => m.parentId === msg.id, timeoutMs);
  };
  const rig: Rig = {
    sim,
    sh,
    show,
    showWhen,
    journal: async (since) => (await sh(`journalctl -u ${UNIT} --no-pager -o cat --since @${Math.floor(since)}`)).stdout,
    ask,
    answersPing: async (t) => {
      const reply = await ask('ping');
      t.match(reply.text ?? reply.markdown ?? '', /pong/i, 'answering');
    },
    failedWithoutRestarts: async (t, exitStatus) => {
      // A unit systemd will restart waits in "activating (auto-restart)", never "failed"; a loop that the
      // start limit ended is failed with restarts counted.
      const props = await showWhen('ActiveState,SubState,ExecMainStatus,NRestarts,StatusText', (p) => p.ActiveState === 'failed', 60_000);
      t.equal(props.ActiveState, 'failed', 'unit is failed');
      t.equal(props.SubState, 'failed', 'no restart pending');
      t.equal(props.ExecMainStatus, exitStatus, `exit status ${exitStatus}`);
      t.equal(props.NRestarts, '0', 'not restarted (RestartPreventExitStatus=77 78)');
      return props;
    },
    latestDevice: () => [...sim.devices()].sort((a, b) => a.registeredAt - b.registeredAt).pop(),
    figure: (line) => {
      figures.push(line);
      t.comment(line);
    },
  };

  // The repository (install.sh) and SRC are bind-mounted read-only at the same paths: the overlay
  // shows only the root file system, and the nested /tmp is a fresh tmpfs.
  const binds = [...new Set([ROOT, SRC])].flatMap((p) => ['--bind', p]);
  const up = await run(HARNESS, ['up', W, '--owner-pid', String(process.pid), '--share-net', ...binds], { timeoutMs: 90_000 });
  if (up.code !== 0) {
    t.fail(`nested systemd did not boot: ${up.stderr.trim()}`);
    return;
  }
  rig.figure(`nested systemd booted in ${up.stdout.trim().split(' ')[1]}s`);
  await main(rig);
  t.comment('figures: ' + figures.join('; '));
}

/**
 * The first install, as an operator makes it: settings written before it (install.sh must keep them),
 * then install.sh with the token file. The settings reconnect every 5 s, so the journal and
 * `toodles monitor` see scheduled reconnects.
 */
export async function installFirst(t: Test, rig: Rig): Promise<RunResult> {
  const env = [
    '# written by the e2e test',
    `TOODLES_WEBEX_U2C_URL=${rig.sim.u2cUrl}`,
    `TOODLES_WEBEX_HYDRA_URL=${rig.sim.hydraUrl}`,
    'TOODLES_LOG_LEVEL=info',
    'TOODLES_RECONNECT_INTERVAL_S=5',
    'TOODLES_DRAIN_TIMEOUT_S=2',
    '',
  ].join('\n');
  const prep = await rig.sh(
    `set -e; install -d -m 0750 /etc/toodles; cat > /etc/toodles/toodles.env; ` +
      `umask 077; printf '%s\\n' '${rig.sim.botToken}' > /root/bot-token`,
    { input: env },
  );
  t.equal(prep.code, 0, `prepared settings: ${prep.stderr}`);
  const r = await rig.sh(`npm_config_prefer_offline=true bash ${ROOT}/install.sh --source ${SRC} --token-file /root/bot-token`, {
    timeoutMs: 600_000,
  });
  t.equal(r.code, 0, 'install.sh exits 0');
  if (r.code !== 0) t.comment(r.stdout + r.stderr);
  rig.figure(`install.sh (build + start) took ${fmt(r.seconds)}s`);
  t.match(r.stdout, /Active: active \(running\)/, 'install.sh prints systemctl status');
  t.notMatch(r.stdout + r.stderr, rig.sim.botToken, 'install.sh never prints the token');
  return r;
}
