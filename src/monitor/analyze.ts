import type { LogRecord } from './records.js';
import type { UnitState } from './sources.js';

export type Verdict = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';
export const EXIT_CODE: Record<Verdict, number> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

export interface Thresholds {
  /** A deaf period longer than this is a warning (`--max-deaf`). */
  maxDeafMs: number;
  slowReconnectMs: number;
  offlineCriticalMs: number;
  failureRate: number;
}
export const DEFAULT_THRESHOLDS: Thresholds = { maxDeafMs: 5_000, slowReconnectMs: 30_000, offlineCriticalMs: 60_000, failureRate: 0.05 };

export interface Reconnect {
  at: number;
  reason: string;
  durationMs?: number;
  deafMs?: number;
  graceful: boolean;
  outcome: 'done' | 'in progress' | 'never completed' | 'stopped';
  pid?: number;
}

export interface Restart {
  at: number;
  cause: string;
}

/** What the catch-up rounds did (catchup.done, catchup.failed) and the answers that came late (command.received's lateMs). */
export interface CatchUpTotals {
  rounds: number;
  failedRounds: number;
  found: number;
  answered: number;
  alreadyAnswered: number;
  tooOld: number;
  /** Spaces left over the caps. */
  leftOver: number;
  /** Spaces whose listing failed. */
  failedSpaces: number;
  /** Messages answered over 30 s after they were sent. */
  lateAnswers: number;
  latestAnswerMs?: number;
  /** The longest gap a round covered (when the bot could not hear), and why it was one. */
  longestGap?: { from: number; to: number; why: string };
}

export interface Report {
  verdict: Verdict;
  reasons: string[];
  /** systemd's ActiveState of the unit, when read from the journal. */
  unit?: string;
  current?: { pid?: number; startedAt: number; version?: string; running: boolean; uptimeMs?: number; endedAt?: number; endCause?: string };
  reconnects: Reconnect[];
  restarts: Restart[];
  catchUp: CatchUpTotals;
  totals: {
    events: number;
    reconnects: number;
    graceful: number;
    deafMs: number;
    commandsReceived: number;
    messagesAnswered: number;
    commandFailures: number;
    restarts: number;
    skippedLines: number;
  };
}

interface Process {
  pid?: number;
  startedAt: number;
  version?: string;
  intervalMs?: number;
  readyAt?: number;
  /** Last time the bot was known to be online on a fresh connection: ready or a completed reconnect. */
  onlineMark?: number;
  exited?: { at: number; code: number };
  open?: Reconnect;
  lastAt: number;
}

/** What systemd said about the unit since the last process start (its own journal lines). */
interface SystemdNotes {
  at: number;
  watchdog?: boolean;
  oom?: boolean;
  signal?: string;
  status?: string;
  detail?: string;
}

const SIGNAL_WORDS: Record<string, string> = { ABRT: 'SIGABRT', KILL: 'SIGKILL', TERM: 'SIGTERM', SEGV: 'SIGSEGV', INT: 'SIGINT' };
const EXIT_WORDS: Record<string, string> = { '77': 'Webex rejected the token', '78': 'bad configuration', '1': 'crashed' };

const fmtS = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`);
const clock = (at: number) => new Date(at).toISOString().slice(0, 19).replace('T', ' ');
/** A reconnect's reason as text (the journal hands a numeric one back as a number). */
const reasonText = ({ reason }: Record<string, unknown>): string =>
  typeof reason === 'string' ? reason : reason === undefined || reason === null ? '?' : JSON.stringify(reason);

/** Folds records (in time order) into the report; holds only what the report needs, not the lines. */
export class Analyzer {
  private readonly reconnects: Reconnect[] = [];
  private readonly restarts: Restart[] = [];
  private readonly reasons = new Map<string, 'WARNING' | 'CRITICAL'>();
  private proc?: Process;
  private notes?: SystemdNotes;
  private events = 0;
  private systemdLines = 0;
  private received = 0;
  private answered = 0;
  private failures = 0;
  private deafMs = 0;
  /** Since when this instance's shared database has been unreachable (cluster only). */
  private databaseDownAt?: number;
  private readonly catchUp: CatchUpTotals = {
    rounds: 0,
    failedRounds: 0,
    found: 0,
    answered: 0,
    alreadyAnswered: 0,
    tooOld: 0,
    leftOver: 0,
    failedSpaces: 0,
    lateAnswers: 0,
  };
  skipped = 0;

  constructor(private readonly th: Thresholds = DEFAULT_THRESHOLDS) {}

  add(r: LogRecord): void {
    if (r.event === undefined) return this.other(r);
    this.events += 1;
    const f = r.fields;
    const p = this.proc;
    if (p && r.pid === p.pid) p.lastAt = r.at;
    switch (r.event) {
      case 'daemon.start':
        return this.started(r);
      case 'daemon.ready':
        if (p) {
          p.readyAt = r.at;
          p.onlineMark = r.at;
          if (r.at - p.startedAt > this.th.offlineCriticalMs)
            this.flag('CRITICAL', `no connection for ${fmtS(r.at - p.startedAt)} after the start at ${clock(p.startedAt)}`);
        }
        return;
      case 'reconnect.start':
        if (p && !p.open) {
          this.checkGap(p, r.at);
          p.open = { at: r.at, reason: reasonText(f), graceful: true, outcome: 'in progress', pid: r.pid };
          this.reconnects.push(p.open);
        }
        return;
      case 'connection.state':
        if (p?.open && f.to === 'backing_off') p.open.graceful = false;
        return;
      case 'reconnect.done':
        return this.reconnected(r);
      case 'command.received':
        if (f.command) this.received += 1;
        if (typeof f.lateMs === 'number') this.answeredLate(f.lateMs);
        return;
      case 'catchup.done':
      case 'catchup.failed':
        return this.caughtUp(r);
      case 'command.done':
        this.answered += 1;
        return;
      case 'command.failed':
        this.failures += 1;
        return;
      case 'watchdog.withheld':
        this.flag('WARNING', `watchdog withheld at ${clock(r.at)} (state ${String(f.state)})`);
        return;
      case 'database.down':
        this.databaseDownAt ??= r.at;
        return;
      case 'database.up':
        if (this.databaseDownAt !== undefined && r.at - this.databaseDownAt > this.th.maxDeafMs) {
          this.flag(
            'WARNING',
            `database unreachable for ${fmtS(r.at - this.databaseDownAt)} from ${clock(this.databaseDownAt)} (only the preferred instance answered)`,
          );
        }
        this.databaseDownAt = undefined;
        return;
      case 'claim.fenced':
        this.flag('WARNING', `a reply withheld at ${clock(r.at)}: this instance had lost its claim (stalled past its lease?)`);
        return;
      case 'daemon.exit':
        if (p) {
          p.exited = { at: r.at, code: Number(f.exitCode) };
          if (p.open) p.open.outcome = 'stopped';
          p.open = undefined;
        }
        return;
      default:
        return;
    }
  }

  /**
   * The running process's own start, when it was before the window: its interval and pid, so the
   * scheduled-reconnect rule holds from the window's start. It was online then (it still runs).
   */
  seed(r: LogRecord, since: number): void {
    if (r.event !== 'daemon.start' || r.at >= since || this.proc) return;
    this.started(r);
    const p = this.proc!;
    p.readyAt = r.at;
    p.onlineMark = since;
  }

  private other(r: LogRecord): void {
    const text = r.text ?? '';
    if (!r.systemd) {
      const bad = /^toodles: (bad configuration: .*)$/.exec(text);
      if (bad) this.note(r.at).detail = bad[1];
      return;
    }
    this.systemdLines += 1;
    let m: RegExpExecArray | null;
    if (/Watchdog timeout/i.test(text)) this.note(r.at).watchdog = true;
    else if (/OOM killer|oom-kill/i.test(text)) this.note(r.at).oom = true;
    else if ((m = /Main process exited, code=(?:killed|dumped), status=\d+\/(\w+)/.exec(text)))
      this.note(r.at).signal = SIGNAL_WORDS[m[1]!] ?? `SIG${m[1]}`;
    else if ((m = /Main process exited, code=exited, status=(\d+)/.exec(text))) {
      if (m[1] !== '0') this.note(r.at).status = m[1];
    } else if (/Failed with result/.test(text)) this.processEnded(r.at);
  }

  private note(at: number): SystemdNotes {
    this.notes ??= { at };
    return this.notes;
  }

  /** systemd says the main process is gone and the unit failed: record why. */
  private processEnded(at: number): void {
    const cause = this.cause();
    if (!cause) return;
    this.restarts.push({ at: this.notes?.at ?? at, cause });
    if (this.notes?.watchdog) this.flag('CRITICAL', `watchdog restart at ${clock(this.notes.at)}`);
    if (this.notes?.oom) this.flag('CRITICAL', `OOM kill at ${clock(this.notes.at)}`);
    const p = this.proc;
    if (p && !p.exited) {
      p.exited = { at, code: Number(this.notes?.status ?? -1) };
      if (p.open) p.open.outcome = 'never completed';
      p.open = undefined;
    }
    this.endCause = cause;
    this.notes = undefined;
  }

  private endCause?: string;

  private cause(): string | undefined {
    const n = this.notes;
    if (!n) return undefined;
    if (n.watchdog) return `watchdog timeout${n.signal ? ` (killed by ${n.signal})` : ''}`;
    if (n.oom) return 'OOM kill';
    if (n.signal) return `killed by ${n.signal}`;
    if (n.status) return `exit status ${n.status}${EXIT_WORDS[n.status] ? ` (${n.detail ?? EXIT_WORDS[n.status]})` : ''}`;
    return n.detail;
  }

  private started(r: LogRecord): void {
    const prev = this.proc;
    if (prev && !prev.exited) {
      // the old process ended without a word and systemd's lines (if any) had no failure: a kill
      if (prev.open) prev.open.outcome = 'never completed';
      const cause = this.cause() ?? 'ended without logging an exit (killed or crashed)';
      this.restarts.push({ at: prev.lastAt, cause });
      this.flag('CRITICAL', `process ${prev.pid ?? '?'} ${cause} around ${clock(prev.lastAt)}`);
    } else if (prev?.exited && prev.exited.code === 0) {
      this.restarts.push({ at: prev.exited.at, cause: 'stopped cleanly (exit 0), then started' });
    }
    for (const c of this.reconnects)
      if (c.outcome === 'never completed' && c.pid === prev?.pid)
        this.flag('CRITICAL', `reconnect at ${clock(c.at)} (${c.reason}) never completed`);
    this.notes = undefined;
    this.endCause = undefined;
    this.databaseDownAt = undefined; // a new process says for itself whether it reaches the database
    const interval = r.fields.reconnectIntervalMs;
    this.proc = {
      pid: r.pid,
      startedAt: r.at,
      lastAt: r.at,
      version: typeof r.fields.version === 'string' ? r.fields.version : undefined,
      intervalMs: typeof interval === 'number' ? interval : undefined,
    };
  }

  private reconnected(r: LogRecord): void {
    const p = this.proc;
    const f = r.fields;
    const durationMs = Number(f.durationMs);
    const deafMs = Number(f.deafMs) || 0;
    let c = p?.open;
    if (!c) {
      // the start was before the window (or from an older version): the cycle still counts
      c = {
        at: r.at - (Number.isFinite(durationMs) ? durationMs : 0),
        reason: reasonText(f),
        graceful: deafMs === 0,
        outcome: 'in progress',
        pid: r.pid,
      };
      this.reconnects.push(c);
    }
    c.durationMs = Number.isFinite(durationMs) ? durationMs : undefined;
    c.deafMs = deafMs;
    c.outcome = 'done';
    this.deafMs += deafMs;
    if (p) {
      p.open = undefined;
      p.onlineMark = r.at;
    }
    if (durationMs > this.th.slowReconnectMs) this.flag('WARNING', `reconnect at ${clock(c.at)} took ${fmtS(durationMs)}`);
    if (deafMs > this.th.offlineCriticalMs) this.flag('CRITICAL', `no connection for ${fmtS(deafMs)} from ${clock(c.at)}`);
    else if (deafMs > this.th.maxDeafMs) this.flag('WARNING', `deaf for ${fmtS(deafMs)} from ${clock(c.at)}`);
  }

  private answeredLate(lateMs: number): void {
    const c = this.catchUp;
    c.lateAnswers += 1;
    c.latestAnswerMs = Math.max(c.latestAnswerMs ?? 0, lateMs);
  }

  /** A catch-up round ended: its counts, the longest gap, and a warning for each message it left unanswered. */
  private caughtUp(r: LogRecord): void {
    const f = r.fields;
    const c = this.catchUp;
    const count = (v: unknown) => (typeof v === 'number' ? v : 0);
    const from = typeof f.from === 'string' ? Date.parse(f.from) : NaN;
    const to = typeof f.to === 'string' ? Date.parse(f.to) : NaN;
    const gap = Number.isFinite(from) && Number.isFinite(to) ? { from, to, why: typeof f.why === 'string' ? f.why : '?' } : undefined;
    if (gap && (!c.longestGap || gap.to - gap.from > c.longestGap.to - c.longestGap.from)) c.longestGap = gap;
    const during = gap ? `the gap from ${clock(gap.from)}` : `the gap caught up on at ${clock(r.at)}`;
    if (r.event === 'catchup.failed') {
      c.failedRounds += 1;
      if (typeof f.next === 'string' && f.next.startsWith('none'))
        this.flag('WARNING', `catching up on ${during} was given up: what was sent then is unanswered`);
      return;
    }
    c.rounds += 1;
    c.found += count(f.found);
    c.answered += count(f.answered);
    c.alreadyAnswered += count(f.alreadyAnswered);
    c.tooOld += count(f.tooOld);
    c.leftOver += count(f.leftOver);
    c.failedSpaces += count(f.failedSpaces);
    if (count(f.tooOld) > 0)
      this.flag(
        'WARNING',
        `${count(f.tooOld)} message(s) sent during ${during} were too old to run (their senders were asked to send them again)`,
      );
    if (count(f.leftOver) > 0)
      this.flag(
        'WARNING',
        `${count(f.leftOver)} space(s) active during ${during} were left over the catch-up caps: their messages unanswered`,
      );
    if (count(f.failedSpaces) > 0)
      this.flag('WARNING', `${count(f.failedSpaces)} space(s) active during ${during} could not be listed: their messages unanswered`);
  }

  /** A scheduled reconnect is due every interval while online: a gap of twice that means the loop stalled. */
  private checkGap(p: Process, at: number): void {
    if (p.intervalMs === undefined || p.onlineMark === undefined) return;
    if (at - p.onlineMark > 2 * p.intervalMs) {
      this.flag(
        'CRITICAL',
        `no scheduled reconnect for ${fmtS(at - p.onlineMark)} from ${clock(p.onlineMark)} (interval ${fmtS(p.intervalMs)})`,
      );
    }
  }

  private flag(level: 'WARNING' | 'CRITICAL', reason: string): void {
    if (!this.reasons.has(reason)) this.reasons.set(reason, level);
  }

  /** The report as of `now`; `unit` is what systemd says about the unit, when known (journal input). */
  report(now: number, unit?: UnitState): Report {
    const unitState = unit?.state;
    const p = this.proc;
    if (p && !p.exited) {
      if (p.open && now - p.open.at > this.th.offlineCriticalMs) {
        p.open.outcome = 'never completed';
        this.flag('CRITICAL', `reconnect at ${clock(p.open.at)} (${p.open.reason}) has not completed after ${fmtS(now - p.open.at)}`);
      }
      if (!p.readyAt && now - p.startedAt > this.th.offlineCriticalMs)
        this.flag('CRITICAL', `not connected since the start at ${clock(p.startedAt)}`);
      if (!p.open && unitState !== 'inactive' && unitState !== 'failed') this.checkGap(p, now);
      if (this.databaseDownAt !== undefined) {
        this.flag(
          'WARNING',
          `database unreachable since ${clock(this.databaseDownAt)} (${fmtS(now - this.databaseDownAt)}; only the preferred instance answers)`,
        );
      }
    }
    for (const c of this.reconnects)
      if (c.outcome === 'never completed' && c !== p?.open)
        this.flag('CRITICAL', `reconnect at ${clock(c.at)} (${c.reason}) never completed`);
    const pending = this.cause();
    const endCause = this.endCause ?? pending;
    const running = unitState !== undefined ? unitState === 'active' || unitState === 'reloading' : !!p && !p.exited;
    if (!running && (p || endCause)) {
      this.flag('CRITICAL', `the unit is not active${unitState ? ` (${unitState})` : ''}${endCause ? `: ${endCause}` : ''}`);
      if (pending && !this.restarts.some((x) => x.cause === pending)) this.restarts.push({ at: this.notes!.at, cause: pending });
    }
    const commands = this.answered + this.failures;
    if (commands > 0 && this.failures / commands > this.th.failureRate) {
      this.flag('WARNING', `${this.failures} of ${commands} commands failed (${((100 * this.failures) / commands).toFixed(1)} %)`);
    }
    const reasons = [...this.reasons].sort((a, b) => (a[1] === b[1] ? 0 : a[1] === 'CRITICAL' ? -1 : 1)).map(([r]) => r);
    let verdict: Verdict = 'OK';
    if (this.events === 0 && this.systemdLines === 0) {
      verdict = 'UNKNOWN';
      reasons.unshift(`no toodles events found${this.skipped ? ` (${this.skipped} unreadable lines skipped)` : ''}`);
    } else if ([...this.reasons.values()].includes('CRITICAL')) verdict = 'CRITICAL';
    else if (this.reasons.size > 0) verdict = 'WARNING';
    const done = this.reconnects.filter((c) => c.outcome === 'done');
    // the process may have started before the window: systemd still knows it
    const fromUnit =
      unit?.mainPid && unit.since && running && unit.mainPid !== p?.pid
        ? { pid: unit.mainPid, startedAt: unit.since, running: true, uptimeMs: now - unit.since }
        : undefined;
    return {
      verdict,
      reasons,
      unit: unitState,
      current:
        fromUnit ??
        (p && {
          pid: p.pid,
          startedAt: p.startedAt,
          version: p.version,
          running: running && !p.exited,
          uptimeMs: running && !p.exited ? now - p.startedAt : undefined,
          endedAt: p.exited?.at,
          endCause,
        }),
      reconnects: this.reconnects,
      restarts: this.restarts.sort((a, b) => a.at - b.at),
      catchUp: { ...this.catchUp },
      totals: {
        events: this.events,
        reconnects: done.length,
        graceful: done.filter((c) => c.graceful).length,
        deafMs: this.deafMs,
        commandsReceived: this.received,
        messagesAnswered: this.answered,
        commandFailures: this.failures,
        restarts: this.restarts.length,
        skippedLines: this.skipped,
      },
    };
  }
}
