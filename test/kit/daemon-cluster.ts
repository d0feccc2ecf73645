/**
 * Several daemon PROCESSES serving one bot (issue 14): each `node dist/src/cli.js run` with its own
 * name, state directory and Webex device, all on the same simulator and (when given) the same
 * PostgreSQL, configured only by the environment as systemd would. Members can be killed -9,
 * restarted on their state directory (so they reuse their recorded device), frozen and thawed.
 * Without a database URL it is a plain single instance (the benchmark's baseline).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Simulator } from '../../src/simulator/index.js';
import { spawnDaemon, type LogLine, type SpawnedDaemon } from './spawn-daemon.js';

export interface ClusterOptions {
  sim: Simulator;
  names: string[];
  /** TOODLES_DATABASE_URL; none: each member is a lone instance as today. */
  databaseUrl?: string;
  /** TOODLES_PREFERRED_INSTANCE (default: the first name). */
  preferred?: string;
  /** /metrics on a free loopback port for each process. */
  metrics?: boolean;
  logLevel?: string;
  env?: Record<string, string>;
  /** How long a (re)start may take to reach daemon.ready. */
  readyTimeoutMs?: number;
}

export interface Member {
  readonly name: string;
  readonly stateDir: string;
  /** The current process (the latest after restarts). */
  process: SpawnedDaemon;
  /** Every process this member ran, oldest first. */
  readonly runs: SpawnedDaemon[];
  /** Its device at the simulator: the target of per-device faults. */
  deviceId: string;
  /** http://host:port of the current process's /metrics, with `metrics`. */
  metricsUrl?: string;
}

export interface DaemonCluster {
  readonly members: Member[];
  member(name: string): Member;
  /** Spawns every member at once and waits until all are online. */
  startAll(): Promise<void>;
  /** Spawns (or respawns) one member and waits until it is online with its device known. */
  start(name: string): Promise<Member>;
  /** SIGKILL: no shutdown, its device stays registered at Webex (as after a crash or a power cut). */
  kill9(name: string): Promise<void>;
  freeze(name: string): void;
  thaw(name: string): void;
  /** Every log line of every process of this member. */
  logs(name: string): LogLine[];
  /** SIGCONT, then SIGKILL every process still running, and remove the state directories. */
  close(): Promise<void>;
}

export function daemonCluster(opts: ClusterOptions): DaemonCluster {
  const scratch = mkdtempSync(join(tmpdir(), 'toodles-cluster-'));
  const members = new Map<string, Member>();
  const env = (name: string, stateDir: string): Record<string, string | undefined> => ({
    WEBEX_BOT_TOKEN: opts.sim.botToken,
    TOODLES_WEBEX_U2C_URL: opts.sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: opts.sim.hydraUrl,
    TOODLES_STATE_DIR: stateDir,
    TOODLES_PROXY_URL: 'direct',
    TOODLES_LOG_LEVEL: opts.logLevel ?? 'debug',
    TOODLES_METRICS_LISTEN: opts.metrics ? '127.0.0.1:0' : undefined,
    ...(opts.databaseUrl
      ? { TOODLES_DATABASE_URL: opts.databaseUrl, TOODLES_INSTANCE: name, TOODLES_PREFERRED_INSTANCE: opts.preferred ?? opts.names[0] }
      : {}),
    ...opts.env,
  });
  const member = (name: string) => {
    const m = members.get(name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  };
  const start = async (name: string): Promise<Member> => {
    const stateDir = members.get(name)?.stateDir ?? join(scratch, name);
    const child = spawnDaemon(env(name, stateDir));
    const m: Member = members.get(name) ?? { name, stateDir, process: child, runs: [], deviceId: '' };
    m.process = child;
    m.runs.push(child);
    members.set(name, m);
    const readyMs = opts.readyTimeoutMs ?? 45_000;
    await child.waitForLog('daemon.ready', undefined, readyMs).catch(async (err: Error) => {
      const exit = child.child.exitCode !== null || child.child.signalCode !== null ? await child.exited : undefined;
      const last = child
        .logs()
        .slice(-4)
        .map((l) => JSON.stringify(l))
        .join('\n  ');
      throw new Error(`${name}: ${err.message}${exit ? ` (exit ${exit.code ?? exit.signal})` : ''}; its last lines:\n  ${last}`);
    });
    const url = (await child.waitForLog('webex.device', undefined, readyMs)).url;
    const device = opts.sim.devices().find((d) => d.url === url);
    if (!device) throw new Error(`${name}: its device ${String(url)} is unknown to the simulator`);
    m.deviceId = device.id;
    if (opts.metrics) {
      const at = await child.waitForLog('metrics.listening', undefined, readyMs);
      m.metricsUrl = `http://${String(at.host)}:${String(at.port)}`;
    }
    return m;
  };
  const signal = (name: string, sig: NodeJS.Signals) => {
    const { process: p } = member(name);
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(sig);
  };
  return {
    get members() {
      return [...members.values()];
    },
    member,
    async startAll() {
      await Promise.all(opts.names.map((n) => start(n)));
    },
    start,
    async kill9(name) {
      await member(name).process.signal('SIGKILL');
    },
    freeze: (name) => signal(name, 'SIGSTOP'),
    thaw: (name) => signal(name, 'SIGCONT'),
    logs: (name) => member(name).runs.flatMap((r) => r.logs()),
    async close() {
      for (const m of members.values()) {
        for (const r of m.runs) {
          if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGCONT');
          await r.kill();
        }
      }
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
