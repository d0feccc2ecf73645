/**
 * `toodles monitor` benchmark (issue 9): a month of events (~500k JSON lines, rotated over several
 * files, a few corrupt lines) read by the real command, against a baseline that only counts the
 * same lines (a streaming read, no parsing). Target: under 10 s and under 200 MB peak RSS.
 *
 *   npm run bench:monitor                 # 500000 lines
 *   npm run bench:monitor -- --lines N
 *
 * Each side runs in a child process of its own (this file with --child), so each peak RSS is its own.
 * A benchmark, not a test: prints figures and exits 0 unless the run itself broke.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runMonitor } from '../src/monitor/cli.js';
import { logFiles } from '../src/monitor/sources.js';

const FILES = 8;
const DAY = 86_400_000;

/** A month of a healthy bot: scheduled reconnects every 10 min, commands, state changes; newest file last. */
function generate(dir: string, lines: number): void {
  const start = Date.now() - 30 * DAY;
  const step = (30 * DAY) / lines;
  const perFile = Math.ceil(lines / FILES);
  let conn = 1;
  let lastCycle = start;
  const queue: Array<Record<string, unknown>> = [
    { event: 'daemon.start', version: '0.1.0', reconnectIntervalMs: 600_000 },
    { event: 'daemon.ready', durationMs: 900 },
  ];
  let out: string[] = [];
  const flush = (f: number) => {
    if (f === 3) out.splice(100, 0, '{"level":30,"time":"2026-', 'not json at all'); // cut and corrupt lines
    const file = join(dir, `toodles.${f + 1}.log`);
    writeFileSync(file, out.join('\n') + '\n');
    const mtime = new Date(start + ((f + 1) * 30 * DAY) / FILES);
    utimesSync(file, mtime, mtime);
    out = [];
  };
  for (let n = 0; n < lines; n++) {
    const t = start + n * step;
    if (t - lastCycle >= 600_000) {
      // one reconnect cycle per 10 minutes of log time, the rest commands and state lines
      lastCycle = t;
      queue.push(
        { event: 'reconnect.start', reason: 'scheduled' },
        { event: 'connection.state', from: 'online', to: 'rotating', reason: 'graceful reconnect (scheduled)' },
        { event: 'reconnect.done', reason: 'scheduled', durationMs: 12 + (n % 40), deafMs: 0, connection: `toodles-${++conn}` },
        { event: 'connection.state', from: 'draining', to: 'online', reason: 'previous connection drained' },
      );
    }
    const filler =
      n % 3 === 0
        ? { event: 'command.received', id: `m${n}`, command: 'ping', room: 'direct' }
        : n % 3 === 1
          ? { event: 'command.done', command: 'ping', durationMs: 40 + (n % 17) }
          : { event: 'activity.duplicate', id: `m${n - 2}`, connection: `toodles-${conn}` };
    const o = queue.shift() ?? filler;
    out.push(JSON.stringify({ level: 30, time: new Date(t).toISOString(), pid: 4242, ...o }));
    if (out.length >= perFile) flush(Math.floor(n / perFile));
  }
  if (out.length > 0) flush(FILES - 1);
}

async function child(kind: string, dir: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  let lines = 0;
  if (kind === 'count') {
    for (const file of logFiles(dir))
      for await (const _ of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) lines += 1;
  } else {
    const write = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = (s: string) => ((out += s), true);
    const code = await runMonitor(['--json', '--since', '31d', '--log-dir', dir]);
    process.stdout.write = write;
    const r = JSON.parse(out) as { verdict: string; totals: Record<string, number> };
    lines = r.totals.events ?? 0;
    process.stderr.write(
      `monitor: exit ${code}, ${r.verdict} ${JSON.stringify((r as { reasons?: string[] }).reasons?.slice(0, 2))}, ${r.totals.reconnects} reconnects, ${r.totals.messagesAnswered} answered, ${r.totals.skippedLines} skipped\n`,
    );
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, lines, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') return child(argv[1]!, argv[2]!);
  const i = argv.indexOf('--lines');
  const lines = i >= 0 ? Number(argv[i + 1]) : 500_000;
  const dir = mkdtempSync(join(tmpdir(), 'toodles-bench-monitor-'));
  try {
    const g0 = Date.now();
    generate(dir, lines);
    const bytes = logFiles(dir).reduce((s, f) => s + statSync(f).size, 0);
    console.log(
      `generated ${lines} lines in ${FILES} files (${(bytes / 1e6).toFixed(1)} MB) in ${((Date.now() - g0) / 1000).toFixed(1)} s`,
    );
    const self = fileURLToPath(import.meta.url);
    const measure = (kind: string) => {
      const r = spawnSync(process.execPath, [self, '--child', kind, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status !== 0) throw new Error(`${kind} child failed (${r.status})`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; lines: number; maxRssMb: number };
    };
    const base = measure('count');
    const mon = measure('monitor');
    const fmt = (x: { ms: number; maxRssMb: number }) => `${(x.ms / 1000).toFixed(2)} s, peak RSS ${x.maxRssMb.toFixed(0)} MB`;
    console.log(`baseline (line count only, ${base.lines} lines): ${fmt(base)}`);
    console.log(`toodles monitor (${mon.lines} events):        ${fmt(mon)}`);
    console.log(`monitor / baseline: ${(mon.ms / base.ms).toFixed(1)}x time, +${(mon.maxRssMb - base.maxRssMb).toFixed(0)} MB RSS`);
    console.log(`target: < 10 s and < 200 MB: ${mon.ms < 10_000 && mon.maxRssMb < 200 ? 'met' : 'NOT met'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
