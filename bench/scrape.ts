/**
 * Scrape load (issue 10): does Prometheus scraping disturb the bot? The daemon runs as its own
 * process (`node dist/src/cli.js run`, metrics on), this process hosts the simulator, sends a steady
 * stream of `ping`s and times each answer. Phases alternate: unloaded (the baseline) and loaded with
 * SCRAPES_PER_S scrapes of /metrics per second, each phase PHASE_MS long.
 *
 *   npm run bench:scrape                          # 2 rounds of 10 s unloaded + 10 s at 100 scrapes/s
 *   npm run bench:scrape -- --rounds 3 --rate 20  # options: --rounds N --rate MSGS_PER_S --scrapes N --phase-ms MS
 *
 * Prints the figures; exits 0 unless the run itself broke (the test in test/metrics asserts).
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { setPriority } from 'node:os';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { CLI, ROOT } from '../test/kit/spawn-daemon.js';
import { sleep } from '../test/kit/wait.js';

export interface ScrapeLoadOptions {
  rounds: number;
  /** Messages per second, in every phase. */
  rate: number;
  scrapesPerS: number;
  phaseMs: number;
}

export interface PhaseFigures {
  loaded: boolean;
  messages: number;
  lost: number;
  medianMs: number;
  meanMs: number;
  p95Ms: number;
  scrapes: number;
  scrapeFailures: number;
  scrapeMedianMs: number;
}

export interface ScrapeLoadResult {
  phases: PhaseFigures[];
  baseline: { medianMs: number; meanMs: number };
  loaded: { medianMs: number; meanMs: number; scrapesPerS: number; scrapeFailures: number };
  /** (loaded - baseline) / baseline, of the median. */
  medianIncrease: number;
}

export const DEFAULTS: ScrapeLoadOptions = { rounds: 2, rate: 20, scrapesPerS: 100, phaseMs: 10_000 };

/** A fixed schedule, like a fleet of scrapers: one every `everyMs`, whatever the last one did. */
const SCRAPER = `
const [url, everyMs] = [process.argv[1], Number(process.argv[2])];
const start = performance.now();
let sent = 0;
const scrape = () => {
  const t0 = performance.now();
  const done = (ok) => process.stdout.write((ok ? 'ok ' : 'failed ') + (performance.now() - t0).toFixed(2) + '\\n');
  fetch(url).then((r) => r.text().then(() => done(r.ok)), () => done(false));
};
// Timers slip on a busy machine: catch up, so the rate is the rate asked for.
setInterval(() => {
  const due = Math.floor((performance.now() - start) / everyMs);
  for (; sent < due; sent++) scrape();
}, everyMs);
`;

const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Starts the daemon process against `sim` with metrics on a free loopback port; resolves with its /metrics URL. */
export async function startDaemonProcess(sim: Simulator) {
  const child = spawn(process.execPath, [CLI, 'run'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      WEBEX_BOT_TOKEN: sim.botToken,
      TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
      TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
      TOODLES_METRICS_LISTEN: '127.0.0.1:0',
      TOODLES_PROXY_URL: 'direct',
      TOODLES_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  for (let waited = 0; ; waited += 50) {
    if (waited > 30_000) throw new Error(`daemon not ready: ${out.slice(-500)}`);
    const m = /"event":"metrics\.listening","host":"([^"]+)","port":(\d+)/.exec(out);
    if (m) {
      const base = `http://${m[1]}:${m[2]}`;
      const health = await fetch(`${base}/healthz`).catch(() => undefined);
      if (health?.status === 200) return { base, stop: async () => (child.kill('SIGTERM'), await exited) };
    }
    await sleep(50);
  }
}

async function phase(sim: Simulator, base: string, loaded: boolean, o: ScrapeLoadOptions): Promise<PhaseFigures> {
  const room = sim.directRoom('load@example.com');
  const latencies: number[] = [];
  const scrapeMs: number[] = [];
  let scrapes = 0;
  let scrapeFailures = 0;
  // The scraper is a process of its own at the lowest CPU priority, as if Prometheus ran on another
  // machine: on a small shared one, its own CPU use would otherwise be charged to the bot.
  const scraper = loaded
    ? spawn(process.execPath, ['-e', SCRAPER, `${base}/metrics`, String(1000 / o.scrapesPerS)], { stdio: ['ignore', 'pipe', 'inherit'] })
    : undefined;
  if (scraper?.pid) setPriority(scraper.pid, 19);
  scraper?.stdout!.setEncoding('utf8').on('data', (d: string) => {
    for (const line of d.split('\n').filter(Boolean)) {
      const [ok, ms] = line.split(' ');
      scrapes += 1;
      if (ok !== 'ok') scrapeFailures += 1;
      scrapeMs.push(Number(ms));
    }
  });
  const waits: Promise<void>[] = [];
  const started = Date.now();
  let lost = 0;
  for (let i = 0; Date.now() - started < o.phaseMs; i++) {
    const t0 = performance.now();
    const asked = sim.postMessage({ from: 'load@example.com', roomId: room.id, text: 'ping' });
    waits.push(
      sim
        .waitForBotMessage((m) => m.parentId === asked.id, 10_000)
        .then(
          () => void latencies.push(performance.now() - t0),
          () => void (lost += 1),
        ),
    );
    await sleep(Math.max(0, started + ((i + 1) * 1000) / o.rate - Date.now()));
  }
  await Promise.all(waits);
  if (scraper) {
    const gone = new Promise((r) => scraper.once('exit', r));
    scraper.kill('SIGTERM');
    await gone;
  }
  return {
    loaded,
    messages: latencies.length + lost,
    lost,
    medianMs: median(latencies),
    meanMs: mean(latencies),
    p95Ms: quantile(latencies, 0.95),
    scrapes,
    scrapeFailures,
    scrapeMedianMs: median(scrapeMs),
  };
}

export async function measureScrapeLoad(
  o: ScrapeLoadOptions = DEFAULTS,
  report: (line: string) => void = () => undefined,
): Promise<ScrapeLoadResult> {
  const sim = await startSimulator({ port: 0 });
  const daemon = await startDaemonProcess(sim);
  try {
    await phase(sim, daemon.base, false, { ...o, phaseMs: 2_000 }); // warm-up: JIT, connection pools
    const phases: PhaseFigures[] = [];
    for (let r = 0; r < o.rounds; r++) {
      for (const loaded of [false, true]) {
        const p = await phase(sim, daemon.base, loaded, o);
        phases.push(p);
        report(
          `${loaded ? `loaded (${o.scrapesPerS}/s)` : 'unloaded        '}  ${p.messages} msgs, lost ${p.lost}, latency median ${p.medianMs.toFixed(1)} ms, mean ${p.meanMs.toFixed(1)} ms, p95 ${p.p95Ms.toFixed(1)} ms` +
            (loaded ? `; ${p.scrapes} scrapes (${p.scrapeFailures} failed), scrape median ${p.scrapeMedianMs.toFixed(1)} ms` : ''),
        );
      }
    }
    const pick = (loaded: boolean) => phases.filter((p) => p.loaded === loaded);
    const avg = (ps: PhaseFigures[], f: (p: PhaseFigures) => number) => mean(ps.map(f));
    const baseline = { medianMs: avg(pick(false), (p) => p.medianMs), meanMs: avg(pick(false), (p) => p.meanMs) };
    const l = pick(true);
    const loadedFig = {
      medianMs: avg(l, (p) => p.medianMs),
      meanMs: avg(l, (p) => p.meanMs),
      scrapesPerS: avg(l, (p) => p.scrapes) / (o.phaseMs / 1000),
      scrapeFailures: l.reduce((n, p) => n + p.scrapeFailures + p.lost, 0),
    };
    const medianIncrease = (loadedFig.medianMs - baseline.medianMs) / baseline.medianMs;
    report(
      `message latency median: unloaded ${baseline.medianMs.toFixed(1)} ms, under ${loadedFig.scrapesPerS.toFixed(0)} scrapes/s ${loadedFig.medianMs.toFixed(1)} ms ` +
        `(${medianIncrease >= 0 ? '+' : ''}${(medianIncrease * 100).toFixed(1)} %); mean ${baseline.meanMs.toFixed(1)} -> ${loadedFig.meanMs.toFixed(1)} ms`,
    );
    return { phases, baseline, loaded: loadedFig, medianIncrease };
  } finally {
    await daemon.stop();
    await sim.stop();
  }
}

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const o: ScrapeLoadOptions = {
    rounds: option(args, 'rounds', DEFAULTS.rounds),
    rate: option(args, 'rate', DEFAULTS.rate),
    scrapesPerS: option(args, 'scrapes', DEFAULTS.scrapesPerS),
    phaseMs: option(args, 'phase-ms', DEFAULTS.phaseMs),
  };
  console.log(
    `bench:scrape: ${o.rounds} rounds of ${o.phaseMs / 1000} s unloaded + ${o.phaseMs / 1000} s at ${o.scrapesPerS} scrapes/s, ${o.rate} msgs/s throughout`,
  );
  measureScrapeLoad(o, (line) => console.log(line)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
