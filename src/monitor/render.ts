import { duration } from '../util/duration.js';
import type { CatchUpTotals, Reconnect, Report, Thresholds } from './analyze.js';

const clock = (at: number) => new Date(at).toISOString().slice(0, 19).replace('T', ' ');
const ms = (v: number | undefined) => (v === undefined ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);
/** Gaps and lateness: up to hours. */
const span = (v: number) => (v < 60_000 ? ms(v) : duration(v));

/** Runs of at least this many healthy scheduled reconnects are shown as one line. */
const RUN = 3;

function healthy(c: Reconnect, th: Thresholds): boolean {
  return c.outcome === 'done' && c.graceful && (c.durationMs ?? 0) <= th.slowReconnectMs && (c.deafMs ?? 0) <= th.maxDeafMs;
}

function row(cells: string[]): string {
  const widths = [19, 40, 10, 10, 8];
  return (
    '  ' +
    cells
      .map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c))
      .join(' ')
      .trimEnd()
  );
}

/** The human report: process, reconnect table (healthy runs folded), restarts, totals, verdict last. */
export function renderText(r: Report, th: Thresholds, source: string): string {
  const out: string[] = [`toodles monitor: ${source}`];
  const c = r.current;
  if (!c) out.push(r.unit && r.unit !== 'active' ? `Process: none running (unit ${r.unit})` : 'Process: none seen in this window');
  else if (c.running)
    out.push(
      `Process: pid ${c.pid ?? '?'}${c.version ? `, toodles ${c.version}` : ''}, up ${duration(c.uptimeMs ?? 0)} (since ${clock(c.startedAt)})`,
    );
  else
    out.push(
      `Process: not running${c.endedAt ? ` since ${clock(c.endedAt)}` : ''}${c.endCause ? ` (${c.endCause})` : ''}; last started ${clock(c.startedAt)}`,
    );

  out.push('', 'Reconnects:');
  if (r.reconnects.length === 0) out.push('  none');
  else out.push(row(['start (UTC)', 'reason', 'duration', 'deaf', 'graceful', 'outcome']));
  for (let i = 0; i < r.reconnects.length;) {
    let j = i;
    while (j < r.reconnects.length && healthy(r.reconnects[j]!, th)) j += 1;
    if (j - i >= RUN) {
      const run = r.reconnects.slice(i, j);
      const longest = Math.max(...run.map((x) => x.durationMs ?? 0));
      out.push(
        `  ${clock(run[0]!.at)} .. ${clock(run.at(-1)!.at)}: ${run.length} healthy graceful reconnects (longest ${ms(longest)}, never deaf over ${ms(th.maxDeafMs)})`,
      );
      i = j;
      continue;
    }
    const x = r.reconnects[i]!;
    out.push(
      row([
        clock(x.at),
        x.reason.length > 40 ? `${x.reason.slice(0, 39)}…` : x.reason,
        ms(x.durationMs),
        ms(x.deafMs),
        x.graceful ? 'yes' : 'no',
        x.outcome,
      ]),
    );
    i += 1;
  }

  out.push('', 'Restarts:');
  if (r.restarts.length === 0) out.push('  none');
  for (const x of r.restarts) out.push(`  ${clock(x.at)}  ${x.cause}`);

  out.push('', 'Catch-up:', ...catchUpLines(r.catchUp));

  const t = r.totals;
  const failRate =
    t.messagesAnswered + t.commandFailures > 0
      ? ` (${((100 * t.commandFailures) / (t.messagesAnswered + t.commandFailures)).toFixed(1)} %)`
      : '';
  out.push(
    '',
    `Totals: ${t.reconnects} reconnects (${t.graceful} graceful), deaf ${ms(t.deafMs)} in all, ${t.messagesAnswered} messages answered, ` +
      `${t.commandFailures} command failures${failRate}, ${t.restarts} restarts`,
  );
  if (t.skippedLines > 0) out.push(`${t.skippedLines} unreadable lines skipped`);
  out.push('', `${r.verdict}${r.reasons.length ? `: ${r.reasons.join('; ')}` : ': every reconnect completed quickly, never deaf'}`);
  return out.join('\n') + '\n';
}

/** The rounds after gaps and what they found, the longest gap, the answers that came late. */
function catchUpLines(c: CatchUpTotals): string[] {
  if (c.rounds + c.failedRounds + c.lateAnswers === 0) return ['  none'];
  const lines = [
    `  ${c.rounds} rounds (${c.failedRounds} failed): ${c.found} messages found, ${c.answered} answered, ${c.alreadyAnswered} already answered, ` +
      `${c.tooOld} too old; ${c.leftOver} spaces left over, ${c.failedSpaces} not listed`,
  ];
  const g = c.longestGap;
  if (g) lines.push(`  longest gap ${span(g.to - g.from)}, ${clock(g.from)} .. ${clock(g.to)} (${g.why})`);
  lines.push(
    `  ${c.lateAnswers} answered late (over 30 s after they were sent${c.latestAnswerMs ? `; the latest ${span(c.latestAnswerMs)}` : ''})`,
  );
  return lines;
}

/** The same report as one JSON document, times as ISO strings. */
export function renderJson(r: Report): string {
  const iso = (at: number | undefined) => (at === undefined ? undefined : new Date(at).toISOString());
  return `${JSON.stringify({
    verdict: r.verdict,
    reasons: r.reasons,
    current: r.current && { ...r.current, startedAt: iso(r.current.startedAt), endedAt: iso(r.current.endedAt) },
    reconnects: r.reconnects.map(({ pid: _pid, ...c }) => ({ ...c, at: iso(c.at) })),
    restarts: r.restarts.map((x) => ({ ...x, at: iso(x.at) })),
    catchUp: {
      ...r.catchUp,
      longestGap: r.catchUp.longestGap && {
        ...r.catchUp.longestGap,
        from: iso(r.catchUp.longestGap.from),
        to: iso(r.catchUp.longestGap.to),
      },
    },
    totals: r.totals,
  })}\n`;
}
