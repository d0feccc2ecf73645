/**
 * Reconnect benchmark (issue 4): N graceful reconnects under a steady message load, measured for
 *   A. toodles: the real daemon (startDaemon, make-before-break supervisor, de-duplication), and
 *   B. the baseline: what the old bot did, break-then-make (close the socket, then open the next one)
 *      on the same SdkWebexLink, same Dispatcher and builtin commands, no de-duplication.
 *
 *   npm run bench:reconnect                            # 200 reconnects per strategy
 *   npm run bench:reconnect -- --reconnects 1000       # the issue's target
 *   options: --reconnects N  --rate MSGS_PER_S  --interval-ms MS  --drain-ms MS  --settle-ms MS
 *            --quiet-ms MS  --warmup N  --only A|B  --no-gc      (env: BENCH_RECONNECTS, BENCH_RATE, ...)
 *
 * Layout: this process hosts the simulator (a fresh one per strategy) and the message load, and
 * counts replies. Each bot runs in a child process of its own (this file with --bot-child), so
 * that its RSS is the bot's alone: the simulator keeps every message and socket it ever saw, which
 * would otherwise show up as the bot's "leak". Children run with --expose-gc unless --no-gc.
 * BENCH_HEAP_DIR=dir makes each bot write a heap snapshot at start and at N (to diagnose growth).
 *
 * A benchmark, not a test: it prints figures and exits 0 unless the run itself broke.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { startDaemon } from '../src/daemon/daemon.js';
import { Dispatcher } from '../src/bot/dispatcher.js';
import { allCommands } from '../src/commands/index.js';
import { OPEN_ACCESS } from '../src/bot/access.js';
import { openStorage } from '../src/storage/index.js';
import { SdkWebexLink } from '../src/webex/link.js';
import type { LinkConnection } from '../src/webex/types.js';
import type { SupervisorStatus } from '../src/connection/supervisor.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { packageVersion } from '../src/version.js';

type Strategy = 'A' | 'B';

interface Options {
  reconnects: number;
  rate: number;
  intervalMs: number;
  drainMs: number;
  settleMs: number;
  quietMs: number;
  warmup: number;
  only?: Strategy;
  gc: boolean;
}

/** What a bot child needs to know; passed as one JSON argument. */
interface ChildArgs {
  strategy: Strategy;
  token: string;
  u2cUrl: string;
  hydraUrl: string;
  reconnects: number;
  intervalMs: number;
  drainMs: number;
  warmup: number;
}

interface Memory {
  rss: number;
  heapUsed: number;
  /** C++ objects bound to JS (Buffers, zlib, sockets): RSS that is not JS heap. */
  external: number;
}

type ChildMessage =
  | { type: 'ready'; mem: Memory }
  | { type: 'reconnect'; n: number; deafMs: number; durationMs: number; rss: number }
  | {
      type: 'measured';
      reconnects: number;
      start: Memory;
      warm?: Memory;
      end: Memory;
      gc: boolean;
      warnings: number;
      firstWarnings: string[];
      duplicatesDropped: number;
    }
  | { type: 'failed'; error: string };

const MB = 1024 * 1024;
const PROGRESS_EVERY = 50;

// ---------------------------------------------------------------------------------------------
// Bot child
// ---------------------------------------------------------------------------------------------

function memory(snapshotName?: string): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  // BENCH_HEAP_DIR=/some/dir: heap snapshots of the bot at start and at N, to find what grows
  // (taken after the reading: writing one inflates RSS).
  const heapDir = process.env.BENCH_HEAP_DIR;
  if (heapDir && snapshotName) writeHeapSnapshot(join(heapDir, `${snapshotName}-${process.pid}.heapsnapshot`));
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

/** A pino logger whose lines the bench reads: reconnects, warnings, dropped duplicates. */
function captureLog(onReconnect: (deafMs: number, durationMs: number) => void) {
  const stats = { warnings: 0, firstWarnings: [] as string[], duplicatesDropped: 0 };
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        if (line.includes('"activity.duplicate"')) stats.duplicatesDropped += 1;
        if (line.includes('"reconnect.done"')) {
          const l = JSON.parse(line) as { deafMs?: number; durationMs?: number };
          onReconnect(Number(l.deafMs), Number(l.durationMs));
        }
        const level = /"level":(\d+)/.exec(line);
        if (level && Number(level[1]) >= 40) {
          stats.warnings += 1;
          if (stats.firstWarnings.length < 5) stats.firstWarnings.push(line.slice(0, 300));
        }
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), stats };
}

async function runChild(args: ChildArgs): Promise<void> {
  const gcOn = typeof (globalThis as { gc?: unknown }).gc === 'function';
  let count = 0;
  let start: Memory | undefined;
  let warm: Memory | undefined;
  let measured = false;
  let stats: ReturnType<typeof captureLog>['stats'];
  const onReconnect = (deafMs: number, durationMs: number) => {
    count += 1;
    send({ type: 'reconnect', n: count, deafMs, durationMs, rss: process.memoryUsage().rss });
    // Measured outside the log write, so the gc runs on a clean stack.
    if (count === args.warmup) setImmediate(() => (warm = memory()));
    if (count === args.reconnects && !measured) {
      measured = true;
      setImmediate(() =>
        send({
          type: 'measured',
          reconnects: count,
          start: start!,
          warm,
          end: memory(`${args.strategy}-end`),
          gc: gcOn,
          warnings: stats.warnings,
          firstWarnings: stats.firstWarnings,
          duplicatesDropped: stats.duplicatesDropped,
        }),
      );
    }
  };
  const captured = captureLog(onReconnect);
  stats = captured.stats;
  const { logger } = captured;
  const stopRequested = new Promise<void>((resolve) => process.on('message', (m: { type?: string }) => m.type === 'stop' && resolve()));
  const ready = () => {
    start = memory(`${args.strategy}-start`);
    send({ type: 'ready', mem: start });
  };

  if (args.strategy === 'A') {
    const stateDir = mkdtempSync(join(tmpdir(), 'toodles-bench-'));
    try {
      const config = loadConfig({
        WEBEX_BOT_TOKEN: args.token,
        TOODLES_WEBEX_U2C_URL: args.u2cUrl,
        TOODLES_WEBEX_HYDRA_URL: args.hydraUrl,
        TOODLES_RECONNECT_INTERVAL_S: String(args.intervalMs / 1000),
        TOODLES_DRAIN_TIMEOUT_S: String(args.drainMs / 1000),
        TOODLES_STATE_DIR: stateDir,
      });
      let wasReady = false;
      const daemon = startDaemon(config, {
        logger,
        notifier: {
          ready: () => {
            if (!wasReady) (wasReady = true), setImmediate(ready);
          },
          status: () => undefined,
          watchdog: () => undefined,
          stopping: () => undefined,
          watchdogIntervalMs: 0,
        },
      });
      let stopping = false;
      const exited = daemon.done.then((code) => {
        if (!stopping) throw new Error(`daemon exited by itself (code ${code})`);
        return code;
      });
      await Promise.race([stopRequested, exited]);
      stopping = true;
      daemon.stop('benchmark over');
      await exited;
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
    return;
  }

  // B: the naive bot. Same SDK adapter, same device reuse, same dispatcher and commands; on each
  // reconnect it closes the socket it has and then opens the next one, and it answers whatever
  // arrives, since it keeps no record of what it has already answered.
  const link = new SdkWebexLink({
    sdk: {
      token: args.token,
      u2cUrl: args.u2cUrl,
      hydraUrl: args.hydraUrl,
      // The daemon's own Mercury settings (src/daemon.ts), so both sides ping alike.
      mercury: { pingInterval: 15_000, pongTimeout: 14_000, maxRetries: 1 },
      wsOptions: { handshakeTimeout: 20_000 },
    },
    log: logger,
  });
  const startedAt = Date.now();
  let reconnects = 0;
  const bot = await link.start(AbortSignal.timeout(30_000));
  const status = (): SupervisorStatus => ({ state: 'online', since: startedAt, reconnects, bot });
  const storage = openStorage({ log: logger });
  const dispatcher: Dispatcher = new Dispatcher({
    api: link,
    commands: allCommands({
      version: packageVersion(),
      startedAt,
      now: Date.now,
      connection: status,
      storage,
      settings: { adminEmails: [] },
      log: logger,
    }),
    bot: () => bot,
    log: logger,
    handlerTimeoutMs: 30_000,
    access: OPEN_ACCESS,
    storage,
  });
  const open = async (): Promise<LinkConnection> => {
    for (;;) {
      try {
        const conn = await link.connect(AbortSignal.timeout(20_000));
        conn.onActivity((activity) => {
          dispatcher.handle(activity).catch((err: unknown) => logger.error({ event: 'activity.failed', id: activity.id, err: String(err) }));
        });
        return conn;
      } catch (err) {
        logger.warn({ event: 'naive.connect_failed', err: String(err) });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  let conn = await open();
  ready();
  let stopping = false;
  void stopRequested.then(() => (stopping = true));
  const sleepOrStop = (ms: number) => Promise.race([new Promise((r) => setTimeout(r, ms)), stopRequested]);
  for (;;) {
    await sleepOrStop(args.intervalMs);
    if (stopping) break;
    const closeStarted = Date.now();
    await conn.close(); // break...
    conn = await open(); // ...then make
    reconnects += 1;
    const deafMs = Date.now() - closeStarted;
    onReconnect(deafMs, deafMs);
  }
  await conn.close();
  await link.shutdown(AbortSignal.timeout(10_000)).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Orchestrator
// ---------------------------------------------------------------------------------------------

interface Result {
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

function parseOptions(argv: string[]): Options {
  const env = process.env;
  const get = (flag: string, envName: string): string | undefined => {
    const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i >= 0) {
      const a = argv[i]!;
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    }
    return env[envName];
  };
  const num = (flag: string, envName: string, fallback: number, min: number): number => {
    const raw = get(flag, envName);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min) throw new Error(`${flag}: expected a number >= ${min}, got "${raw}"`);
    return v;
  };
  const known = ['--reconnects', '--rate', '--interval-ms', '--drain-ms', '--settle-ms', '--quiet-ms', '--warmup', '--only', '--no-gc'];
  for (const a of argv) {
    if (a.startsWith('--') && !known.includes(a.split('=')[0]!)) throw new Error(`unknown option ${a} (known: ${known.join(' ')})`);
  }
  const only = get('--only', 'BENCH_ONLY');
  if (only !== undefined && only !== 'A' && only !== 'B') throw new Error(`--only: A or B, got "${only}"`);
  const o: Options = {
    reconnects: Math.floor(num('--reconnects', 'BENCH_RECONNECTS', 200, 1)),
    rate: num('--rate', 'BENCH_RATE', 20, 0.1),
    intervalMs: num('--interval-ms', 'BENCH_INTERVAL_MS', 150, 100),
    drainMs: num('--drain-ms', 'BENCH_DRAIN_MS', 100, 0),
    settleMs: num('--settle-ms', 'BENCH_SETTLE_MS', 10_000, 0),
    quietMs: num('--quiet-ms', 'BENCH_QUIET_MS', 1_500, 0),
    warmup: Math.floor(num('--warmup', 'BENCH_WARMUP', 20, 0)),
    only,
    gc: !argv.includes('--no-gc') && env.BENCH_GC !== '0',
  };
  if (o.drainMs >= o.intervalMs) throw new Error('--drain-ms must be shorter than --interval-ms (the daemon refuses otherwise)');
  return o;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Stretches of time in which the simulator had no open socket for the bot's device(s). */
function socketGaps(sim: Simulator, from: number, to: number) {
  const spans = sim
    .connections()
    .map((c) => [c.openedAt, c.closedAt ?? to] as const)
    .filter(([a, b]) => b > from && a < to)
    .sort((x, y) => x[0] - y[0]);
  let cursor = from;
  const gaps: number[] = [];
  for (const [a, b] of spans) {
    if (a > cursor) gaps.push(a - cursor);
    cursor = Math.max(cursor, b);
  }
  if (cursor < to) gaps.push(to - cursor);
  return { count: gaps.length, totalMs: gaps.reduce((s, g) => s + g, 0), maxMs: gaps.length ? Math.max(...gaps) : 0 };
}

async function runStrategy(strategy: Strategy, o: Options): Promise<Result> {
  const sim = await startSimulator({ port: 0 });
  const tag = `[${strategy}]`;
  let child: ChildProcess | undefined;
  let loadTimer: NodeJS.Timeout | undefined;
  try {
    const room = sim.directRoom('loadgen@example.com');
    const args: ChildArgs = {
      strategy,
      token: sim.botToken,
      u2cUrl: sim.u2cUrl,
      hydraUrl: sim.hydraUrl,
      reconnects: o.reconnects,
      intervalMs: o.intervalMs,
      drainMs: o.drainMs,
      warmup: o.warmup,
    };
    const execArgv = [...process.execArgv.filter((a) => a !== '--expose-gc'), ...(o.gc ? ['--expose-gc'] : [])];
    const c = fork(fileURLToPath(import.meta.url), ['--bot-child', JSON.stringify(args)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = c;

    const deaf: number[] = [];
    const durations: number[] = [];
    const sent: string[] = [];
    let lastReconnectAt = Date.now();
    let measured: Extract<ChildMessage, { type: 'measured' }> | undefined;
    let readyMem: Memory | undefined;
    let failure: string | undefined;
    const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
    let childExited = false;
    void exited.then(() => (childExited = true));
    const answeredNow = () => {
      const ids = new Set(sent);
      let n = 0;
      for (const m of sim.botMessages()) if (m.parentId && ids.delete(m.parentId)) n += 1;
      return n;
    };

    c.on('message', (m: ChildMessage) => {
      switch (m.type) {
        case 'ready':
          readyMem = m.mem;
          break;
        case 'reconnect':
          lastReconnectAt = Date.now();
          if (measured) break; // the settle period keeps reconnecting; figures stop at N
          deaf.push(m.deafMs);
          durations.push(m.durationMs);
          if (m.n % PROGRESS_EVERY === 0) {
            const sorted = [...deaf].sort((a, b) => a - b);
            process.stderr.write(
              `${tag} ${m.n}/${o.reconnects} reconnects  deaf p50 ${percentile(sorted, 50)} ms max ${sorted.at(-1)} ms  ` +
                `msgs sent ${sent.length} answered ${answeredNow()}  bot rss ${(m.rss / MB).toFixed(1)} MB\n`,
            );
          }
          break;
        case 'measured':
          measured = m;
          break;
        case 'failed':
          failure = m.error;
          break;
      }
    });

    const until = async (cond: () => boolean, timeoutMs: number, what: string) => {
      const deadline = Date.now() + timeoutMs;
      while (!cond()) {
        if (failure) throw new Error(`${tag} bot failed: ${failure}`);
        if (childExited) throw new Error(`${tag} bot process exited while waiting for ${what}`);
        if (Date.now() > deadline) throw new Error(`${tag} timed out waiting for ${what}`);
        await sleep(20);
      }
    };
    await until(() => readyMem !== undefined, 60_000, 'the bot to come online');
    process.stderr.write(`${tag} bot online (pid ${c.pid}), load ${o.rate} msg/s, reconnect every ${o.intervalMs} ms\n`);

    // Steady load: the number posted tracks elapsed time exactly, whatever the timer drift.
    const loadStarted = Date.now();
    lastReconnectAt = loadStarted;
    loadTimer = setInterval(() => {
      const due = Math.floor(((Date.now() - loadStarted) / 1000) * o.rate);
      while (sent.length < due) sent.push(sim.postMessage({ from: 'loadgen@example.com', roomId: room.id, text: 'ping' }).id);
    }, Math.max(5, Math.min(50, 1000 / o.rate / 2)));

    // Stall guard: a run in which reconnects stop for a minute is broken, not slow.
    await until(() => measured !== undefined || Date.now() - lastReconnectAt > 60_000, 24 * 3600_000, `${o.reconnects} reconnects`);
    if (!measured) throw new Error(`${tag} no reconnect for 60 s after ${deaf.length} reconnects`);
    const wallMs = Date.now() - loadStarted;
    clearInterval(loadTimer);
    loadTimer = undefined;
    const measuredAt = Date.now();
    const devices = sim.devices().length;
    const socketsOpened = sim.connections().length;
    const socketsOpenAtEnd = sim.connections().filter((x) => x.open).length;
    const simGaps = socketGaps(sim, loadStarted, measuredAt);

    // Settle: the bot keeps running (and reconnecting) until every message is answered or the
    // settle time is up, then a quiet period catches late second answers.
    const settleStarted = Date.now();
    while (Date.now() - settleStarted < o.settleMs && answeredNow() < sent.length) await sleep(50);
    await sleep(o.quietMs);
    const pendingAtEnd = sim.devices().reduce((n, d) => n + d.pending, 0);

    const replies = new Map<string, number>();
    for (const m of sim.botMessages()) if (m.parentId) replies.set(m.parentId, (replies.get(m.parentId) ?? 0) + 1);
    const counts = sent.map((id) => replies.get(id) ?? 0);

    c.send({ type: 'stop' });
    let stopTimer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => (stopTimer = setTimeout(() => r('timeout'), 30_000)))]);
    clearTimeout(stopTimer);
    if (code === 'timeout') {
      c.kill('SIGKILL');
      throw new Error(`${tag} bot did not stop within 30 s`);
    }
    if (code !== 0) throw new Error(`${tag} bot exited with code ${code}`);
    process.stderr.write(`${tag} done\n`);

    return {
      strategy,
      reconnects: deaf.length,
      deaf,
      durations,
      sent: sent.length,
      answered: counts.filter((n) => n >= 1).length,
      lost: counts.filter((n) => n === 0).length,
      duplicated: counts.filter((n) => n > 1).length,
      extraReplies: counts.reduce((s, n) => s + Math.max(0, n - 1), 0),
      devices,
      socketsOpened,
      socketsOpenAtEnd,
      simGaps,
      start: measured.start,
      warm: measured.warm,
      end: measured.end,
      gc: measured.gc,
      wallMs,
      warnings: measured.warnings,
      firstWarnings: measured.firstWarnings,
      duplicatesDropped: measured.duplicatesDropped,
      pendingAtEnd,
    };
  } finally {
    if (loadTimer) clearInterval(loadTimer);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await sim.stop();
  }
}

function printReport(results: Result[], o: Options): void {
  const mb = (b: number) => (b / MB).toFixed(1);
  const growth = (a: Memory, b: Memory) => `${b.rss - a.rss >= 0 ? '+' : ''}${mb(b.rss - a.rss)}`;
  const rows: Array<[string, (r: Result) => string]> = [
    ['reconnects done', (r) => String(r.reconnects)],
    ['deaf time p50 (ms)', (r) => String(percentile([...r.deaf].sort((a, b) => a - b), 50))],
    ['deaf time p99 (ms)', (r) => String(percentile([...r.deaf].sort((a, b) => a - b), 99))],
    ['deaf time max (ms)', (r) => String(Math.max(...r.deaf))],
    ['deaf time total (ms)', (r) => String(r.deaf.reduce((s, d) => s + d, 0))],
    ['reconnect duration p50/max (ms)', (r) => {
      const s = [...r.durations].sort((a, b) => a - b);
      return `${percentile(s, 50)} / ${s.at(-1)}`;
    }],
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
  const name = (s: Strategy) => (s === 'A' ? 'A: toodles (make-before-break)' : 'B: naive (break-then-make)');
  const header = ['', ...results.map((r) => name(r.strategy))];
  const table = [header, ...rows.map(([label, f]) => [label, ...results.map(f)])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ');
  const out: string[] = [];
  out.push(
    `reconnect benchmark: N=${o.reconnects} per strategy, load ${o.rate} msg/s (ping, direct room), ` +
      `reconnect interval ${o.intervalMs} ms, drain timeout ${o.drainMs} ms, settle ${o.settleMs} ms + quiet ${o.quietMs} ms, node ${process.version}`,
  );
  out.push('');
  out.push(line(table[0]!));
  out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of table.slice(1)) out.push(line(row));

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
      out.push(`  ${mark(steadyMb < 5)}  RSS growth under 5 MB ${steadyOver}, after ${o.warmup} warm-up reconnects: ${steadyMb.toFixed(1)} MB${gcNote}`);
    }
  }
  for (const r of results) {
    if (r.firstWarnings.length) {
      out.push('');
      out.push(`${r.strategy}: first warnings logged by the bot:`);
      for (const w of r.firstWarnings) out.push(`  ${w}`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf('--bot-child');
  if (childAt >= 0) {
    try {
      await runChild(JSON.parse(process.argv[childAt + 1]!) as ChildArgs);
      process.exit(0);
    } catch (err) {
      send({ type: 'failed', error: String((err as Error)?.stack ?? err) });
      process.exit(1);
    }
  }
  const o = parseOptions(process.argv.slice(2));
  const strategies: Strategy[] = o.only ? [o.only] : ['A', 'B'];
  const results: Result[] = [];
  for (const s of strategies) results.push(await runStrategy(s, o));
  printReport(results, o);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:reconnect broke: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
