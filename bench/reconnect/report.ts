/** bench:reconnect's figures: one column per strategy, then strategy A against the issue's targets. */
import type { Options } from './options.js';
import type { ColdStart } from './start.js';
import type { Memory, Strategy } from './protocol.js';

export const MB = 1024 * 1024;

/** What one strategy's run measured. */
export interface Result {
  strategy: Strategy;
  reconnects: number;
  deaf: number[];
  durations: number[];
  sent: number;
  answered: number;
  lost: number;
  duplicated: number;
  extraReplies: number;
  devices: number;
  socketsOpened: number;
  socketsOpenAtEnd: number;
  simGaps: { count: number; totalMs: number; maxMs: number };
  start: Memory;
  warm?: Memory;
  end: Memory;
  gc: boolean;
  wallMs: number;
  warnings: number;
  firstWarnings: string[];
  duplicatesDropped: number;
  pendingAtEnd: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const NAMES: Record<Strategy, string> = { A: 'A: toodles (make-before-break)', B: 'B: naive (break-then-make)' };

/** A text table: the first column left-aligned, the others right-aligned. */
function drawTable(header: string[], rows: string[][]): string[] {
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)];
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return percentile(sorted, 50);
}

export function formatReport(results: Result[], o: Options): string {
  const mb = (b: number) => (b / MB).toFixed(1);
  const growth = (a: Memory, b: Memory) => `${b.rss - a.rss >= 0 ? '+' : ''}${mb(b.rss - a.rss)}`;
  const rows: Array<[string, (r: Result) => string]> = [
    ['reconnects done', (r) => String(r.reconnects)],
    [
      'deaf time p50 (ms)',
      (r) =>
        String(
          percentile(
            [...r.deaf].sort((a, b) => a - b),
            50,
          ),
        ),
    ],
    [
      'deaf time p99 (ms)',
      (r) =>
        String(
          percentile(
            [...r.deaf].sort((a, b) => a - b),
            99,
          ),
        ),
    ],
    ['deaf time max (ms)', (r) => String(Math.max(...r.deaf))],
    ['deaf time total (ms)', (r) => String(r.deaf.reduce((s, d) => s + d, 0))],
    [
      'reconnect duration p50/max (ms)',
      (r) => {
        const s = [...r.durations].sort((a, b) => a - b);
        return `${percentile(s, 50)} / ${s.at(-1)}`;
      },
    ],
    ['sim: gaps with no open socket', (r) => `${r.simGaps.count} (${r.simGaps.totalMs} ms, max ${r.simGaps.maxMs})`],
    ['messages sent', (r) => String(r.sent)],
    ['answered', (r) => String(r.answered)],
    ['lost (no reply after settle)', (r) => String(r.lost)],
    ['duplicated (>1 reply)', (r) => `${r.duplicated}${r.extraReplies > r.duplicated ? ` (${r.extraReplies} extra)` : ''}`],
    ['duplicates dropped by bot', (r) => (r.strategy === 'A' ? String(r.duplicatesDropped) : 'n/a')],
    ['devices registered (sim)', (r) => String(r.devices)],
    ['sockets opened / open at N', (r) => `${r.socketsOpened} / ${r.socketsOpenAtEnd}`],
    ['un-acked events at end (sim)', (r) => String(r.pendingAtEnd)],
    ['RSS start (MB)', (r) => mb(r.start.rss)],
    ['RSS end (MB)', (r) => mb(r.end.rss)],
    ['RSS growth (MB)', (r) => growth(r.start, r.end)],
    [`RSS growth after warm-up @${o.warmup} (MB)`, (r) => (r.warm ? growth(r.warm, r.end) : 'n/a')],
    ['heap used start -> end (MB)', (r) => `${mb(r.start.heapUsed)} -> ${mb(r.end.heapUsed)}`],
    ['external start -> end (MB)', (r) => `${mb(r.start.external)} -> ${mb(r.end.external)}`],
    ['gc before RSS readings', (r) => (r.gc ? 'yes (--expose-gc)' : 'no')],
    ['bot warnings/errors logged', (r) => String(r.warnings)],
    ['wall time (s)', (r) => (r.wallMs / 1000).toFixed(1)],
  ];
  const header = ['', ...results.map((r) => NAMES[r.strategy])];
  const out: string[] = [];
  out.push(
    `reconnect benchmark: N=${o.reconnects} per strategy, load ${o.rate} msg/s (ping, direct room), ` +
      `reconnect interval ${o.intervalMs} ms, drain timeout ${o.drainMs} ms, settle ${o.settleMs} ms + quiet ${o.quietMs} ms, node ${process.version}`,
  );
  out.push('');
  const cells = rows.map(([label, f]) => [label, ...results.map(f)]);
  out.push(...drawTable(header, cells));

  const a = results.find((r) => r.strategy === 'A');
  if (a) {
    const growthMb = (a.end.rss - a.start.rss) / MB;
    const over = a.reconnects >= 1000 ? 'over 1000 reconnects' : `over ${a.reconnects} reconnects (target is over 1000)`;
    const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    out.push('');
    out.push('targets (issue 4), strategy A:');
    out.push(`  ${mark(Math.max(...a.deaf) === 0)}  0 ms deaf time (max ${Math.max(...a.deaf)} ms)`);
    out.push(`  ${mark(a.lost === 0)}  0 messages lost (${a.lost})`);
    out.push(`  ${mark(a.duplicated === 0)}  0 messages duplicated (${a.duplicated})`);
    out.push(`  ${mark(a.devices === 1)}  1 device registration (${a.devices})`);
    const gcNote = a.gc ? '' : ' (no gc: run without --no-gc for a fair reading)';
    out.push(`  ${mark(growthMb < 5)}  RSS growth under 5 MB ${over}, from a cold start: ${growthMb.toFixed(1)} MB${gcNote}`);
    // A leak shows as growth that goes on; JIT and allocator warm-up stop. Judge both, say which is which.
    if (a.warm) {
      const steady = a.reconnects - o.warmup;
      const steadyMb = (a.end.rss - a.warm.rss) / MB;
      const steadyOver = steady >= 1000 ? 'over 1000 reconnects' : `over ${steady} reconnects (target is over 1000)`;
      out.push(
        `  ${mark(steadyMb < 5)}  RSS growth under 5 MB ${steadyOver}, after ${o.warmup} warm-up reconnects: ${steadyMb.toFixed(1)} MB${gcNote}`,
      );
    }
  }
  for (const r of results) {
    if (r.firstWarnings.length) {
      out.push('');
      out.push(`${r.strategy}: first warnings logged by the bot:`);
      for (const w of r.firstWarnings) out.push(`  ${w}`);
    }
  }
  return out.join('\n') + '\n';
}

/** The cold starts: medians per bot, A against B as a ratio and a difference, and the issue's targets. */
export function formatStarts(starts: ColdStart[], o: Options): string {
  const of = (s: Strategy) => starts.filter((r) => r.strategy === s);
  const figures: Array<[string, (r: ColdStart) => number, (n: number) => string]> = [
    ['start -> online (ms)', (r) => r.onlineMs, String],
    ['CPU used by then (ms)', (r) => r.cpuToOnlineMs, String],
    ['first answer once online (ms)', (r) => r.firstAnswerMs, String],
    ['start -> first pong (ms)', (r) => r.onlineMs + r.firstAnswerMs, String],
    ['RSS once connected (MB)', (r) => r.rss, (b) => (b / MB).toFixed(1)],
  ];
  const strategies = (['A', 'B'] as const).filter((s) => of(s).length > 0);
  const cell = (s: Strategy, f: (r: ColdStart) => number, show: (n: number) => string) => {
    const xs = of(s).map(f);
    return `${show(median(xs))} (${show(Math.min(...xs))}-${show(Math.max(...xs))})`;
  };
  const both = strategies.length === 2;
  const rows = figures.map(([label, f, show]) => {
    const against = both ? [(median(of('A').map(f)) / median(of('B').map(f))).toFixed(2)] : [];
    return [label, ...strategies.map((s) => cell(s, f, show)), ...against];
  });
  const out = [
    `cold starts: ${o.starts} per bot, in turns, each on a fresh simulator; median (min-max), node ${process.version}`,
    '',
    ...drawTable(['', ...strategies.map((s) => NAMES[s]), ...(both ? ['A / B'] : [])], rows),
  ];
  if (both) {
    const pong = (s: Strategy) => median(of(s).map((r) => r.onlineMs + r.firstAnswerMs));
    const rss = (s: Strategy) => median(of(s).map((r) => r.rss));
    const ratio = pong('A') / pong('B');
    const overMb = (rss('A') - rss('B')) / MB;
    const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    out.push('');
    out.push('targets (issue 20), A against B in this run:');
    out.push(`  ${mark(ratio <= 1)}  start -> first pong no slower than the naive bot's: ratio ${ratio.toFixed(2)} (target <= 1.00)`);
    out.push(
      `  ${mark(overMb <= 8)}  RSS once connected at most the naive bot's + 8 MB: ${overMb >= 0 ? '+' : ''}${overMb.toFixed(1)} MB ` +
        `(ratio ${(rss('A') / rss('B')).toFixed(2)})`,
    );
  }
  return out.join('\n') + '\n\n';
}
