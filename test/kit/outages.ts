/**
 * The outage kinds recovery is judged on, and one way to run any of them against the daemon and the
 * simulator (through the cutting proxy for the proxy kinds): used by test/connection/recovery*.test.ts
 * and bench/recovery.ts alike.
 */
import type { DaemonTuning } from '../../src/daemon/daemon.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { CuttingProxy } from './cutting-proxy.js';
import { startHarness, type Harness } from './daemon-harness.js';
import { ALICE } from './recovery.js';
import { sleep } from './wait.js';

export interface OutageKind {
  name: string;
  /** 'start': Webex fails before the daemon starts; 'running': it fails under a running daemon. */
  phase: 'start' | 'running';
  viaProxy?: boolean;
  begin(sim: Simulator, proxy?: CuttingProxy): void | Promise<void>;
  end(sim: Simulator, proxy?: CuttingProxy): void | Promise<void>;
}

export const OUTAGES: OutageKind[] = [
  {
    name: 'upgrades refused',
    phase: 'running',
    begin: (s) => {
      s.faults.refuseUpgrades({ status: 503 });
      s.faults.killSockets();
    },
    end: (s) => s.faults.refuseUpgrades(false),
  },
  { name: 'sockets black-holed', phase: 'running', begin: (s) => s.faults.blackhole(true), end: (s) => s.faults.blackhole(false) },
  { name: 'zombie socket', phase: 'running', begin: (s) => s.faults.zombie(true), end: (s) => s.faults.zombie(false) },
  {
    name: 'no buffer_state',
    phase: 'running',
    begin: (s) => {
      s.faults.withholdBufferState(true);
      s.faults.killSockets();
    },
    end: (s) => s.faults.withholdBufferState(false),
  },
  {
    name: 'proxy refusing',
    phase: 'running',
    viaProxy: true,
    begin: (s, p) => {
      p!.refuse(503);
      s.faults.killSockets();
    },
    end: (_s, p) => p!.forward(),
  },
  {
    name: 'proxy down',
    phase: 'running',
    viaProxy: true,
    begin: async (s, p) => {
      await p!.down();
      s.faults.killSockets();
    },
    end: (_s, p) => p!.up(),
  },
  {
    name: 'device registration 5xx at start',
    phase: 'start',
    begin: (s) => void s.faults.failRest({ path: '/wdm/api/v1/devices', status: 503 }),
    end: (s) => s.faults.clear(),
  },
  {
    name: 'service catalog 5xx at start',
    phase: 'start',
    begin: (s) => void s.faults.failRest({ path: 'catalog', status: 503 }),
    end: (s) => s.faults.clear(),
  },
];

export interface OutageResult {
  kind: string;
  outageMs: number;
  /** Fault to the first reconnect.start (running kinds). */
  detectMs?: number;
  /** Lift to the reply to a ping posted at the lift. */
  answerMs: number;
  /** The daemon's tries during the outage (a start, a connect, a hedged sibling). */
  attempts: number;
  perMinute: number;
  /** The most tries in any 60 s window of the outage. */
  peakPerMinute: number;
  /** What Webex saw meanwhile: upgrades, catalog and device requests, swallowed connections (a try on
   * a fresh SDK instance is a catalog fetch, a device request and an upgrade). */
  requests: number;
  statuses: string[];
}

/** Upgrades, catalog and device requests and swallowed connections Webex (or the proxy) saw between `from` and `to`. */
function requestsSeen(sim: Simulator, proxy: CuttingProxy | undefined, from: number, to: number): number {
  const seen = sim
    .traffic()
    .filter((l) => l.t >= from && l.t < to)
    .filter(
      (l) =>
        l.kind === 'ws-upgrade' ||
        l.kind === 'blackholed' ||
        (l.kind === 'http' && (/catalog/.test(String(l.path)) || (/\/wdm\/api\/v1\/devices/.test(String(l.path)) && l.method !== 'GET'))),
    ).length;
  const refusedByProxy = (proxy?.records ?? []).filter(
    (r) => r.at >= from && r.at < to && r.outcome !== 'tunnel' && r.outcome !== 'forwarded',
  ).length;
  return seen + refusedByProxy;
}

function peak(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 60_000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

export interface OutageRun {
  kind: OutageKind;
  outageMs: number;
  tuning: DaemonTuning;
  /** Stands for a longer outage: the daemon's clock jumps this far forward half-way through. */
  clockJumpMs?: number;
  /** How long to wait for the answer after the lift (the baseline can take minutes). */
  answerTimeoutMs?: number;
}

/** Runs one outage on a fresh simulator and daemon; resolves with what it measured. */
export async function runOutage(run: OutageRun): Promise<OutageResult> {
  const { kind, outageMs } = run;
  const sim = await startSimulator({ port: 0 });
  const proxy = kind.viaProxy ? await CuttingProxy.start() : undefined;
  let skew = 0;
  const tuning: DaemonTuning = { ...run.tuning, now: () => Date.now() + skew };
  const env = proxy ? { TOODLES_PROXY_URL: proxy.url } : undefined;
  const jump = () => {
    if (run.clockJumpMs) setTimeout(() => (skew += run.clockJumpMs!), outageMs / 2).unref();
  };
  let h: Harness | undefined;
  try {
    let began: number;
    let lifted = 0;
    let detectMs: number | undefined;
    if (kind.phase === 'start') {
      await kind.begin(sim, proxy);
      began = Date.now();
      jump();
      const lift = sleep(outageMs).then(async () => {
        lifted = Date.now();
        await kind.end(sim, proxy);
      });
      h = await startHarness({ sim, env, tuning, readyTimeoutMs: outageMs + (run.answerTimeoutMs ?? 60_000) });
      await lift;
    } else {
      h = await startHarness({ sim, env, tuning });
      const from = h.logs.length;
      await kind.begin(sim, proxy);
      began = Date.now();
      jump();
      void h
        .waitForLog('reconnect.start', (l) => h!.logs.indexOf(l) >= from, outageMs + 60_000)
        .then(
          () => (detectMs = Date.now() - began),
          () => undefined,
        );
      await sleep(outageMs);
      lifted = Date.now();
      await kind.end(sim, proxy);
    }
    const room = sim.directRoom(ALICE);
    const asked = sim.postMessage({ from: ALICE, roomId: room.id, text: 'ping' });
    await sim.waitForBotMessage((m) => m.parentId === asked.id, run.answerTimeoutMs ?? 60_000);
    const answerMs = Date.now() - lifted;
    // The daemon's tries: one reconnect.wait before each (hedged siblings too), plus the first start.
    const tries = h.logs
      .filter((l) => l.event === 'reconnect.wait' && Number(l.time) >= began && Number(l.time) < lifted)
      .map((l) => Number(l.time) + Number(l.delayMs));
    if (kind.phase === 'start') tries.unshift(began);
    return {
      kind: kind.name,
      outageMs,
      detectMs,
      answerMs,
      attempts: tries.length,
      perMinute: (tries.length * 60_000) / outageMs,
      peakPerMinute: peak(tries),
      requests: requestsSeen(sim, proxy, began, lifted),
      statuses: h.notices.filter((n) => n.startsWith('STATUS=')),
    };
  } finally {
    await h?.stop();
    await proxy?.close();
    await sim.stop();
  }
}
