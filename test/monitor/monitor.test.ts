import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from '../kit/spawn-daemon.js';
import { Analyzer, DEFAULT_THRESHOLDS } from '../../src/monitor/analyze.js';
import { fromJournalLine, fromJsonLine } from '../../src/monitor/records.js';
import { parseArgs, parseSince, progressReporter } from '../../src/monitor/cli.js';
import { renderText } from '../../src/monitor/render.js';
import { duration } from '../../src/util/duration.js';
import { pruneRolledFiles } from '../../src/log/retention.js';
import { sleep } from '../kit/wait.js';

/** Recorded rolling-log lines (a real daemon against the simulator), moved in time so the last is `lagMs` ago. */
/**
 * The moment recorded logs are moved to end near, and judged at (--as-of): a monitor started late on a
 * loaded machine must not see a healthy log go quiet.
 */
const AS_OF = Date.now();

function recorded(name: string, lagMs = 1_000): string[] {
  const lines = readFileSync(join(ROOT, 'test/monitor/recorded', name), 'utf8')
    .trim()
    .split('\n');
  const last = Date.parse((JSON.parse(lines.at(-1)!) as { time: string }).time);
  const shift = AS_OF - lagMs - last;
  return lines.map((l) => l.replace(/"time":"([^"]+)"/, (_, at: string) => `"time":"${new Date(Date.parse(at) + shift).toISOString()}"`));
}

function logDir(files: Record<string, string[]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-monitor-'));
  let age = Object.keys(files).length;
  for (const [name, lines] of Object.entries(files)) {
    writeFileSync(join(dir, name), lines.join('\n') + '\n');
    const at = new Date(Date.now() - 1000 * age--); // rotated files: older first
    utimesSync(join(dir, name), at, at);
  }
  return dir;
}

// Each test reads its own files and runs its own monitor processes: several at once.
t.jobs = 4;

/** `toodles monitor ARGS` as a process, its input given; resolves when it exits. */
function runMonitor(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'monitor', ...args], { env: opts.env ?? process.env });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(opts.input ?? '');
  });
}

function monitor(...args: string[]) {
  const judged = args.includes('--log-dir') && !args.some((a) => a.startsWith('--as-of')) ? ['--as-of', new Date(AS_OF).toISOString()] : [];
  return runMonitor([...judged, ...args]);
}

t.test('healthy: OK, exit 0, healthy scheduled reconnects summarised in one line', async (t) => {
  const r = await monitor('--log-dir', logDir({ 'toodles.1.log': recorded('healthy.log') }));
  t.equal(r.code, 0, r.out + r.err);
  t.match(r.out, /^Process: pid \d+, toodles 0\.1\.0, up \d+s/m);
  t.match(r.out, /: 8 healthy graceful reconnects \(longest \d+ ms/);
  t.match(r.out, /Totals: 8 reconnects \(8 graceful\), deaf 0 ms in all/);
  t.match(r.out, /^OK: every reconnect completed quickly, never deaf$/m);
  const j = JSON.parse((await monitor('--json', '--log-dir', logDir({ 'toodles.1.log': recorded('healthy.log') }))).out) as Record<
    string,
    unknown
  >;
  t.equal(j.verdict, 'OK');
  t.same(j.reasons, []);
  const reconnects = j.reconnects as Array<Record<string, unknown>>;
  t.equal(reconnects.length, 8);
  t.match(reconnects[0], { reason: 'scheduled', graceful: true, outcome: 'done', deafMs: 0, at: /^\d{4}-.*Z$/ });
  t.match(j.totals, { reconnects: 8, graceful: 8, deafMs: 0, restarts: 0, skippedLines: 0 });
  t.match(r.out, /^Catch-up:\n {2}none$/m, 'no gap, no catch-up');
});

t.test('a restart and an outage caught up on: OK; the rounds, the longest gap and the late answers counted', async (t) => {
  // Recorded: stopped, 35 s of messages to the bot (two 1:1 spaces, a mention and a message without one in a group space), started
  // again; then a socket killed while upgrades were refused, a message meanwhile.
  const r = await monitor('--log-dir', logDir({ 'toodles.1.log': recorded('caught-up.log') }));
  t.equal(r.code, 0, r.out);
  t.match(
    r.out,
    /^Catch-up:\n {2}2 rounds \(0 failed\): 5 messages found, 4 answered, 1 already answered, 0 too old; 0 spaces left over, 0 not listed$/m,
  );
  t.match(r.out, /^ {2}longest gap 3\d\.\d s, \S+ \S+ \.\. \S+ \S+ \(restart, new device\)$/m, 'the restart, not the outage');
  t.match(r.out, /^ {2}3 answered late \(over 30 s after they were sent; the latest 3\d\.\d s\)$/m);
  t.match(r.out, /^OK: /m);
  const j = JSON.parse((await monitor('--json', '--log-dir', logDir({ 'toodles.1.log': recorded('caught-up.log') }))).out) as {
    catchUp: Record<string, unknown>;
  };
  t.match(j.catchUp, {
    rounds: 2,
    failedRounds: 0,
    found: 5,
    answered: 4,
    alreadyAnswered: 1,
    tooOld: 0,
    leftOver: 0,
    lateAnswers: 3,
    longestGap: { from: /Z$/, to: /Z$/, why: 'restart, new device' },
  });
});

t.test('messages left unanswered after a gap (too old to run, spaces over the cap): WARNING naming both, exit 1', async (t) => {
  // Recorded: started with a mark 3 h old; one message 2 h old, 56 spaces with a message in the last 5 minutes (the cap is 50).
  const r = await monitor('--log-dir', logDir({ 'toodles.1.log': recorded('left-unanswered.log') }));
  t.equal(r.code, 1, r.out);
  t.match(
    r.out,
    /^ {2}1 rounds \(0 failed\): 51 messages found, 50 answered, 0 already answered, 1 too old; 6 spaces left over, 0 not listed$/m,
  );
  t.match(r.out, /^ {2}longest gap 3h 1s, /m);
  t.match(r.out, /^WARNING: .*1 message\(s\) sent during the gap from \S+ \S+ were too old to run/m);
  t.match(
    r.out,
    /^WARNING: .*6 space\(s\) active during the gap from \S+ \S+ were left over the catch-up caps: their messages unanswered/m,
  );
});

t.test('--as-of judges logs copied off a VM at the time of the incident', async (t) => {
  const twoDaysAgo = AS_OF - 2 * 86_400_000;
  const dir = logDir({ 'toodles.1.log': recorded('healthy.log', AS_OF - twoDaysAgo + 1_000) });
  const then = await monitor('--as-of', new Date(twoDaysAgo).toISOString(), '--since', '1h', '--log-dir', dir);
  t.equal(then.code, 0, then.out + then.err);
  t.match(then.out, /^OK: every reconnect completed quickly, never deaf$/m);
  const bad = await monitor('--as-of', 'yesterday-ish', '--log-dir', dir);
  t.equal(bad.code, 64);
  t.match(bad.err, /--as-of: "yesterday-ish" is not a timestamp/);
});

t.test('a long deaf period: WARNING naming it, exit 1; the cycle is in the table as not graceful', async (t) => {
  const r = await monitor('--log-dir', logDir({ 'toodles.1.log': recorded('long-deaf.log') }));
  t.equal(r.code, 1, r.out);
  t.match(r.out, /connection closed \(1006 socket closed\)\s+11\.0 s\s+11\.0 s\s+no\s+done/);
  t.match(r.out, /^WARNING: deaf for 11 s from .*$/m);
  const relaxed = await monitor('--max-deaf', '20', '--log-dir', logDir({ 'toodles.1.log': recorded('long-deaf.log') }));
  t.equal(relaxed.code, 0, '--max-deaf 20 accepts it');
});

t.test('a stuck reconnect: CRITICAL, exit 2, naming the reconnect that never completed', async (t) => {
  const r = await monitor('--log-dir', logDir({ 'toodles.1.log': recorded('stuck-reconnect.log', 90_000) }));
  t.equal(r.code, 2, r.out);
  t.match(r.out, /^CRITICAL: reconnect at .* \(connection closed \(1006 socket closed\)\) has not completed after \d+ s/m);
  t.match(r.out, /connection closed \(1006 socket closed\)\s+-\s+-\s+no\s+never completed/);
});

t.test('rotated files, corrupt and truncated lines: skipped and counted, never a crash', async (t) => {
  const lines = recorded('healthy.log');
  const half = lines.slice(0, 20);
  const rest = lines.slice(20);
  const cut = rest[5]!.slice(0, 40); // a line cut in half (power loss mid-write)
  const dir = logDir({
    'toodles.1.log': [...half, 'garbage that is not JSON', '{"level":30,"time":"not a time","event":"x"}'],
    'toodles.2.log': [...rest.slice(0, 5), cut, ...rest.slice(5), '[1,2,3]', '{"msg":"an older version without event names","time":1}'],
  });
  const r = await monitor('--log-dir', dir);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /^5 unreadable lines skipped$/m);
  t.match(r.out, /8 healthy graceful reconnects/);
});

t.test('an empty directory (or one without our events): UNKNOWN, exit 3', async (t) => {
  const r = await monitor('--log-dir', mkdtempSync(join(tmpdir(), 'toodles-empty-')));
  t.equal(r.code, 3);
  t.match(r.out, /^UNKNOWN: no toodles events found$/m);
  const missing = await monitor('--log-dir', '/nonexistent/toodles');
  t.equal(missing.code, 3);
  t.match(missing.out, /^UNKNOWN: cannot read files in \/nonexistent\/toodles: /);
  const json = await monitor('--json', '--log-dir', '/nonexistent/toodles');
  t.equal((JSON.parse(json.out) as { verdict: string }).verdict, 'UNKNOWN');
});

t.test('bad arguments get a clear answer, exit 64; --help exit 0', async (t) => {
  const r = await monitor('--since', 'yesterday-ish');
  t.equal(r.code, 64);
  t.match(r.err, /--since: "yesterday-ish" is neither a duration/);
  t.equal((await monitor('--frobnicate')).code, 64);
  t.equal((await monitor('--max-deaf', 'x')).code, 64);
  t.equal((await monitor('--unit')).code, 64);
  const help = await monitor('--help');
  t.equal(help.code, 0);
  t.match(help.out, /usage: toodles monitor/);
});

t.test('--since: durations and timestamps', async (t) => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  t.equal(parseSince('90m', now), now - 90 * 60_000);
  t.equal(parseSince('24h', now), now - 86_400_000);
  t.equal(parseSince('7d', now), now - 7 * 86_400_000);
  t.equal(parseSince('30s', now), now - 30_000);
  t.equal(parseSince('2026-11-29T08:00:00Z', now), Date.parse('2026-11-29T08:00:00Z'));
  t.throws(() => parseSince('soon', now));
  t.match(parseArgs(['--unit=bot', '--json', '--since', '90m'], now), { unit: 'bot', json: true, since: now - 90 * 60_000 });
  t.equal(duration(90_061_000), '1d 1h');
  t.equal(duration(3_725_000), '1h 2m');
  t.equal(duration(65_000), '1m 5s');
});

/** Journal entries as `journalctl -o json` prints them: the bot's native fields and systemd's own lines. */
function entry(at: number, fields: Record<string, string>): string {
  return JSON.stringify({ __REALTIME_TIMESTAMP: String(at * 1000), ...fields });
}

t.test('journal entries: typed fields back from upper-case names; systemd lines give restart causes', async (t) => {
  const t0 = Date.parse('2026-11-30T10:00:00Z');
  const bot = (at: number, pid: number, f: Record<string, string>) =>
    fromJournalLine(entry(at, { _PID: String(pid), SYSLOG_IDENTIFIER: 'toodles', ...f }))!;
  const sd = (at: number, message: string) => fromJournalLine(entry(at, { _PID: '1', SYSLOG_IDENTIFIER: 'systemd', MESSAGE: message }))!;
  const rec = bot(t0, 10, {
    EVENT: 'reconnect.done',
    DURATION_MS: '14',
    DEAF_MS: '0',
    REASON: 'scheduled',
    MESSAGE: 'Reconnected in 14 ms',
  });
  t.same(rec.fields, { event: 'reconnect.done', durationMs: 14, deafMs: 0, reason: 'scheduled' });
  t.equal(rec.at, t0);
  t.equal(fromJournalLine('{"MESSAGE":"no timestamp"}'), undefined);
  t.equal(fromJournalLine('{truncated'), undefined);
  t.equal(fromJsonLine('[]'), undefined);
  const old = fromJournalLine(
    entry(t0, { _PID: '9', MESSAGE: '{"level":30,"time":"2026-11-30T09:00:00Z","pid":9,"event":"daemon.ready","durationMs":5}' }),
  )!;
  t.equal(old.event, 'daemon.ready', 'an older version JSON line in MESSAGE still counts');

  const a = new Analyzer();
  a.add(bot(t0, 10, { EVENT: 'daemon.start', VERSION: '0.1.0', RECONNECT_INTERVAL_MS: '600000' }));
  a.add(bot(t0 + 1000, 10, { EVENT: 'daemon.ready', DURATION_MS: '1000' }));
  a.add(bot(t0 + 2000, 10, { EVENT: 'command.received', COMMAND: 'ping' }));
  a.add(bot(t0 + 2100, 10, { EVENT: 'command.failed', COMMAND: 'ping', REF: 'ab' }));
  a.add(bot(t0 + 3000, 10, { EVENT: 'watchdog.withheld', STATE: 'connecting', OVERDUE_MS: '31000' }));
  a.add(sd(t0 + 10_000, 'toodles.service: Watchdog timeout (limit 5s)!'));
  a.add(sd(t0 + 10_001, 'toodles.service: Killing process 10 (node) with signal SIGABRT.'));
  a.add(sd(t0 + 10_100, 'toodles.service: Main process exited, code=killed, status=6/ABRT'));
  a.add(sd(t0 + 10_101, "toodles.service: Failed with result 'watchdog'."));
  a.add(bot(t0 + 16_000, 11, { EVENT: 'daemon.start', VERSION: '0.1.0', RECONNECT_INTERVAL_MS: '600000' }));
  a.add(bot(t0 + 80_000, 11, { EVENT: 'daemon.ready', DURATION_MS: '64000' }));
  const r = a.report(t0 + 90_000, { state: 'active', mainPid: 11, since: t0 + 16_000 });
  t.equal(r.verdict, 'CRITICAL');
  t.same(
    r.restarts.map((x) => x.cause),
    ['watchdog timeout (killed by SIGABRT)'],
  );
  t.match(r.reasons.join('\n'), /watchdog restart at 2026-11-30 10:00:10/);
  t.match(r.reasons.join('\n'), /no connection for 64 s after the start/);
  t.match(r.reasons.join('\n'), /1 of 1 commands failed \(100\.0 %\)/);
  t.match(r.reasons.join('\n'), /watchdog withheld/);
  t.match(r.current, { pid: 11, running: true, uptimeMs: 74_000 });
  t.match(r.totals, { commandsReceived: 1, commandFailures: 1, restarts: 1 });
});

t.test('a bad-config exit: CRITICAL, the unit not active, the setting named', async (t) => {
  const t0 = Date.parse('2026-11-30T10:00:00Z');
  const a = new Analyzer();
  a.add(
    fromJournalLine(
      entry(t0, {
        _PID: '20',
        MESSAGE: 'toodles: bad configuration: TOODLES_RECONNECT_INTERVAL_S must be a number of seconds, got "soon"',
      }),
    )!,
  );
  a.add(fromJournalLine(entry(t0 + 10, { _PID: '1', MESSAGE: 'toodles.service: Main process exited, code=exited, status=78/CONFIG' }))!);
  a.add(fromJournalLine(entry(t0 + 11, { _PID: '1', MESSAGE: "toodles.service: Failed with result 'exit-code'." }))!);
  const r = a.report(t0 + 20_000, { state: 'failed' });
  t.equal(r.verdict, 'CRITICAL');
  t.match(r.reasons[0], /^the unit is not active \(failed\): exit status 78 \(bad configuration: TOODLES_RECONNECT_INTERVAL_S/);
  t.same(
    r.restarts.map((x) => x.cause.slice(0, 14)),
    ['exit status 78'],
  );
  t.match(renderText(r, DEFAULT_THRESHOLDS, 'journal'), /^Process: none running \(unit failed\)$/m);
});

t.test('no scheduled reconnect within twice the interval while online: CRITICAL', async (t) => {
  const t0 = Date.parse('2026-11-30T10:00:00Z');
  const a = new Analyzer();
  a.add({ at: t0, pid: 1, event: 'daemon.start', fields: { reconnectIntervalMs: 600_000 } });
  a.add({ at: t0 + 1000, pid: 1, event: 'daemon.ready', fields: {} });
  const r = a.report(t0 + 1000 + 1_300_000, { state: 'active', mainPid: 7, since: t0 - 5_000 });
  t.equal(r.verdict, 'CRITICAL');
  t.match(r.reasons[0], /no scheduled reconnect for 1300 s .* \(interval 600 s\)/);
  t.match(r.current, { pid: 7, running: true, uptimeMs: 1_306_000 }, 'a process older than the window: systemd says which');
  const slow = new Analyzer();
  slow.add({ at: t0, pid: 1, event: 'daemon.start', fields: { reconnectIntervalMs: 600_000 } });
  slow.add({ at: t0 + 1000, pid: 1, event: 'daemon.ready', fields: {} });
  slow.add({ at: t0 + 600_000, pid: 1, event: 'reconnect.start', fields: { reason: 'scheduled' } });
  slow.add({ at: t0 + 640_000, pid: 1, event: 'reconnect.done', fields: { reason: 'scheduled', durationMs: 40_000, deafMs: 0 } });
  slow.add({ at: t0 + 700_000, pid: 1, event: 'daemon.exit', fields: { exitCode: 0 } });
  slow.add({ at: t0 + 705_000, pid: 2, event: 'daemon.start', fields: { reconnectIntervalMs: 600_000 } });
  slow.add({ at: t0 + 706_000, pid: 2, event: 'daemon.ready', fields: {} });
  const s = slow.report(t0 + 710_000);
  t.equal(s.verdict, 'WARNING');
  t.match(s.reasons, [/reconnect at .* took 40 s/]);
  t.same(
    s.restarts.map((x) => x.cause),
    ['stopped cleanly (exit 0), then started'],
  );
});

t.test('the journal source: journalctl -o json streamed, systemctl for the unit state (PATH stand-ins)', async (t) => {
  // The real journal is exercised under the real systemd (test/_systemd/service.test.ts); here stand-ins
  // for journalctl and systemctl check the plumbing: arguments, exit statuses, a missing journal.
  const bin = mkdtempSync(join(tmpdir(), 'toodles-bin-'));
  const now = Date.now();
  const lines = [
    entry(now - 30_000, {
      _PID: '50',
      SYSLOG_IDENTIFIER: 'toodles',
      EVENT: 'daemon.start',
      RECONNECT_INTERVAL_MS: '600000',
      VERSION: '0.1.0',
    }),
    entry(now - 29_000, { _PID: '50', SYSLOG_IDENTIFIER: 'toodles', EVENT: 'daemon.ready', DURATION_MS: '1000' }),
    '{"__REALTIME_TIMESTAMP": "cut in ha',
  ];
  writeFileSync(join(bin, 'journal.json'), lines.join('\n') + '\n');
  writeFileSync(
    join(bin, 'journalctl'),
    `#!/bin/sh\necho "$@" > ${bin}/args\n[ -n "$FAIL_JOURNAL" ] && { echo "No journal files were found." >&2; exit 1; }\ncat ${bin}/journal.json\n`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh\nprintf 'ActiveState=active\\nMainPID=50\\nExecMainStartTimestamp=@${Math.floor((now - 30_000) / 1000)}\\n'\n`,
    { mode: 0o755 },
  );
  const run = (env: Record<string, string>, ...args: string[]) =>
    runMonitor(args, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env } });
  let r = await run({}, '--unit', 'bot', '--since', '1h');
  t.equal(r.code, 0, r.out + r.err);
  t.match(readFileSync(join(bin, 'args'), 'utf8'), /^-u bot -o json --no-pager --since @\d+\n$/);
  t.match(r.out, /^toodles monitor: journal of unit bot, since /);
  // Started 30 s before the stand-ins were written; the monitor's own start-up adds a moment on a busy machine.
  const up = Number(/^Process: pid 50, toodles 0\.1\.0, up (\d+)s/m.exec(r.out)?.[1]);
  t.ok(up >= 30 && up < 90, `the process, up ${up}s`);
  t.match(r.out, /^1 unreadable lines skipped$/m);
  r = await run({ FAIL_JOURNAL: '1' });
  t.equal(r.code, 3);
  t.equal(r.out, 'UNKNOWN: journalctl failed (exit 1): No journal files were found.\n');
  r = await run({ PATH: '/nonexistent' });
  t.equal(r.code, 3);
  t.match(r.out, /^UNKNOWN: cannot run journalctl: /);
});

t.test('the journal piped in by /usr/local/bin/toodles (root reads it, the monitor runs unprivileged)', async (t) => {
  // systemd/toodles-command asks for the window, runs journalctl and systemctl itself and pipes what
  // they print into `toodles monitor --journal-stdin`; no PATH here: nothing is run but the monitor.
  const run = (input: string, ...args: string[]) => runMonitor(args, { input, env: { ...process.env, PATH: '/nonexistent' } });
  let r = await run('', '--journal-window', '--unit', 'bot', '--since', '2026-11-30T10:00:00.750Z');
  t.equal(r.out, `bot ${Date.parse('2026-11-30T10:00:00Z') / 1000}\n`, 'the window: unit and whole seconds, for journalctl --since @S');
  t.equal(r.code, 0);
  for (const args of [['--log-dir', '/var/log/toodles'], ['--help']]) {
    r = await run('', '--journal-window', ...args);
    t.same([r.code, r.out], [0, ''], `${args[0]}: no journal to read (the wrapper runs it as it is)`);
  }
  r = await run('', '--journal-window', '--unit', 'bot; rm -rf /');
  t.equal(r.code, 64, 'a unit name that is not one is refused');

  const now = Date.now();
  const startS = Math.floor(now / 1000) - 120; // the process started before the window
  const windowS = Math.floor(now / 1000) - 60;
  const bot = (at: number, f: Record<string, string>) => entry(at, { _PID: '50', SYSLOG_IDENTIFIER: 'toodles', ...f });
  const stream = (state: string, status?: number) =>
    [
      `Since=@${windowS}`,
      state,
      bot(startS * 1000 + 300, { EVENT: 'daemon.start', VERSION: '0.1.0', RECONNECT_INTERVAL_MS: '600000' }),
      bot(windowS * 1000 + 5_000, { EVENT: 'reconnect.start', REASON: 'scheduled' }),
      bot(windowS * 1000 + 5_020, { EVENT: 'reconnect.done', DURATION_MS: '20', DEAF_MS: '0', REASON: 'scheduled' }),
      '{"__REALTIME_TIMESTAMP": "cut in ha',
      ...(status === undefined ? [] : [`JournalStatus=${status}`]),
    ].join('\n') + '\n';
  const active = `ActiveState=active\nMainPID=50\nExecMainStartTimestamp=@${startS}`;
  r = await run(stream(active, 0), '--journal-stdin', '--unit', 'bot', '--since', '1m');
  t.equal(r.code, 0, r.out + r.err);
  const from = new Date(windowS * 1000).toISOString().slice(0, 19).replace('T', ' ');
  t.match(r.out, `toodles monitor: journal of unit bot, since ${from} UTC (1m)\n`, 'the window the stream says');
  t.match(r.out, /^Process: pid 50, toodles 0\.1\.0, up /m, 'the running process, from its start before the window');
  t.match(r.out, /^Totals: 1 reconnects /m, 'the window entries');
  t.match(r.out, /^1 unreadable lines skipped$/m);

  r = await run(stream('ActiveState=failed\nMainPID=0'), '--journal-stdin', '--unit', 'bot');
  t.same([r.code, r.out], [3, 'UNKNOWN: the journal ended early (no JournalStatus=)\n'], 'a stream cut short is no verdict');
  r = await run(stream('ActiveState=failed\nMainPID=0', 1), '--journal-stdin', '--unit', 'bot');
  t.same([r.code, r.out], [3, 'UNKNOWN: journalctl failed (exit 1)\n']);
  r = await run(stream('ActiveState=failed\nMainPID=0', 0), '--journal-stdin', '--unit', 'bot');
  t.equal(r.code, 2, 'the unit state comes from the stream too');
  t.match(r.out, /^CRITICAL: the unit is not active \(failed\)/m);
  r = await run(bot(now, { EVENT: 'daemon.ready' }) + '\nJournalStatus=0\n', '--journal-stdin');
  t.same([r.code, r.out], [3, 'UNKNOWN: no window start before the entries (Since=@SECONDS)\n']);
});

t.test(
  'not root and in neither journal group: one line, exit 3',
  { skip: process.getuid?.() !== 0 && 'needs root to run as nobody' },
  async (t) => {
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, CLI, 'monitor'], { encoding: 'utf8' });
    t.equal(r.status, 3, r.stderr);
    t.equal(
      r.stdout,
      'UNKNOWN: nobody may not read the system journal (needs root or the systemd-journal or adm group; or use --log-dir DIR)\n',
    );
  },
);

t.test('retention: the newest files are kept, by time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-prune-'));
  const names = ['toodles.1.log', 'toodles.2.log', 'toodles.7.log', 'toodles.3.log', 'other.log', 'toodles.log.bak'];
  names.forEach((n, i) => {
    writeFileSync(join(dir, n), 'x');
    const at = new Date(Date.now() - (names.length - i) * 60_000);
    utimesSync(join(dir, n), at, at);
  });
  pruneRolledFiles(dir, 'toodles', 2);
  t.same(readdirSync(dir).sort(), ['other.log', 'toodles.3.log', 'toodles.7.log', 'toodles.log.bak']);
  pruneRolledFiles(join(dir, 'missing'), 'toodles', 2); // no directory yet: nothing to do
});

t.test('a process that vanished without an exit (files only): CRITICAL; its open reconnect never completed', async (t) => {
  const t0 = Date.parse('2026-11-30T10:00:00Z');
  const a = new Analyzer();
  a.add({ at: t0, pid: 1, event: 'daemon.start', fields: { reconnectIntervalMs: 600_000 } });
  a.add({ at: t0 + 1000, pid: 1, event: 'daemon.ready', fields: {} });
  a.add({ at: t0 + 2000, pid: 1, event: 'reconnect.start', fields: { reason: 'connection closed (1006 socket closed)' } });
  a.add({ at: t0 + 9000, pid: 2, event: 'daemon.start', fields: { reconnectIntervalMs: 600_000 } });
  a.add({ at: t0 + 10_000, pid: 2, event: 'daemon.ready', fields: {} });
  const r = a.report(t0 + 20_000);
  t.equal(r.verdict, 'CRITICAL');
  t.match(r.reasons.join('\n'), /process 1 ended without logging an exit \(killed or crashed\) around 2026-11-30 10:00:02/);
  t.match(r.reasons.join('\n'), /reconnect at 2026-11-30 10:00:02 \(connection closed \(1006 socket closed\)\) never completed/);
  t.match(r.reconnects[0], { outcome: 'never completed', graceful: true });
});

t.test('progress on a terminal only, cleared at the end', async (t) => {
  const written: string[] = [];
  const progress = { lines: 123_456, skipped: 0 };
  progressReporter(progress, { isTTY: false, write: (s: string) => written.push(s) })();
  const done = progressReporter(progress, { isTTY: true, write: (s: string) => written.push(s) });
  await sleep(1_300);
  done();
  t.match(written[0], /^\rreading: 123,456 lines, 1 s$/);
  t.equal(written.at(-1), '\r\x1b[K');
});

t.test('a process started before the window: its interval still holds (seeded from its daemon.start)', async (t) => {
  const t0 = Date.parse('2026-11-30T10:00:00Z');
  const since = t0 + 3_600_000;
  const start = { at: t0, pid: 5, event: 'daemon.start', fields: { reconnectIntervalMs: 600_000, version: '0.1.0' } };
  const quiet = new Analyzer();
  quiet.seed(start, since);
  quiet.seed({ ...start, pid: 6 }, since); // only the first counts
  quiet.add({ at: since + 5_000, pid: 5, event: 'command.done', fields: { command: 'ping' } });
  const r = quiet.report(since + 1_500_000, { state: 'active', mainPid: 5, since: t0 });
  t.equal(r.verdict, 'CRITICAL');
  t.match(r.reasons[0], /no scheduled reconnect for 1500 s/);
  t.match(r.current, { pid: 5, version: '0.1.0', running: true, uptimeMs: 5_100_000 });
  const fine = new Analyzer();
  fine.seed(start, since);
  fine.seed({ ...start, at: since + 1 }, since); // inside the window: the stream brings it
  for (let at = since + 600_000; at < since + 1_500_000; at += 600_000) {
    fine.add({ at, pid: 5, event: 'reconnect.start', fields: { reason: 'scheduled' } });
    fine.add({ at: at + 20, pid: 5, event: 'reconnect.done', fields: { reason: 'scheduled', durationMs: 20, deafMs: 0 } });
  }
  t.equal(fine.report(since + 1_500_000, { state: 'active', mainPid: 5, since: t0 }).verdict, 'OK');
});

t.test('a cluster instance: a long database outage and a withheld reply are warnings; a short one is not', async (t) => {
  const t0 = Date.parse('2026-11-30T10:00:00Z');
  const start = { at: t0, pid: 7, event: 'daemon.start', fields: { reconnectIntervalMs: 600_000, version: '0.1.0' } };
  const run = (...records: Array<{ at: number; event: string; fields?: Record<string, unknown> }>) => {
    const a = new Analyzer();
    a.add(start);
    a.add({ at: t0 + 1_000, pid: 7, event: 'daemon.ready', fields: {} });
    for (const r of records) a.add({ pid: 7, fields: {}, ...r });
    return a.report(t0 + 300_000, { state: 'active', mainPid: 7, since: t0 });
  };
  t.equal(
    run({ at: t0 + 10_000, event: 'database.down' }, { at: t0 + 12_000, event: 'database.up' }).verdict,
    'OK',
    'a 2 s restart of the database',
  );
  const long = run({ at: t0 + 10_000, event: 'database.down' }, { at: t0 + 70_000, event: 'database.up' });
  t.equal(long.verdict, 'WARNING');
  t.match(long.reasons, [/^database unreachable for 60 s from 2026-11-30 10:00:10 \(only the preferred instance answered\)$/]);
  const still = run({ at: t0 + 10_000, event: 'database.down' }, { at: t0 + 20_000, event: 'database.down' });
  t.match(still.reasons, [/^database unreachable since 2026-11-30 10:00:10 \(290 s; only the preferred instance answers\)$/]);
  const fenced = run({ at: t0 + 50_000, event: 'claim.fenced', fields: { id: 'm' } });
  t.equal(fenced.verdict, 'WARNING');
  t.match(fenced.reasons, [/^a reply withheld at 2026-11-30 10:00:50: this instance had lost its claim/]);
});

t.test('catch-up rounds: one given up or a space not listed is a warning; a round retried is not', async (t) => {
  const t0 = Date.parse('2026-11-30T10:00:00Z');
  const gap = { from: '2026-11-30T09:58:00.000Z', to: '2026-11-30T10:00:05.000Z', why: 'reconnect' };
  const run = (...records: Array<{ event: string; fields: Record<string, unknown> }>) => {
    const a = new Analyzer();
    a.add({ at: t0, pid: 7, event: 'daemon.start', fields: { reconnectIntervalMs: 600_000 } });
    a.add({ at: t0 + 1_000, pid: 7, event: 'daemon.ready', fields: {} });
    records.forEach((r, i) => a.add({ at: t0 + 10_000 + i, pid: 7, ...r }));
    return a.report(t0 + 60_000, { state: 'active', mainPid: 7, since: t0 });
  };
  const retried = run(
    { event: 'catchup.failed', fields: { ...gap, err: 'rooms: 503', next: 'a retry in 30000 ms' } },
    { event: 'catchup.done', fields: { ...gap, found: 2, answered: 2, alreadyAnswered: 0, tooOld: 0, leftOver: 0, failedSpaces: 0 } },
  );
  t.equal(retried.verdict, 'OK');
  t.match(retried.catchUp, { rounds: 1, failedRounds: 1, answered: 2, longestGap: { from: Date.parse(gap.from), why: 'reconnect' } });
  const givenUp = run({ event: 'catchup.failed', fields: { ...gap, err: 'rooms: 503', next: 'none: given up' } });
  t.equal(givenUp.verdict, 'WARNING');
  t.match(givenUp.reasons, [/^catching up on the gap from 2026-11-30 09:58:00 was given up: what was sent then is unanswered$/]);
  const unlisted = run({ event: 'catchup.done', fields: { ...gap, found: 0, failedSpaces: 2 } });
  t.match(unlisted.reasons, [
    /^2 space\(s\) active during the gap from 2026-11-30 09:58:00 could not be listed: their messages unanswered$/,
  ]);
  const late = run(
    { event: 'command.received', fields: { command: 'ping', lateMs: 45_000 } },
    { event: 'command.received', fields: { command: 'ping' } },
  );
  t.match(late.catchUp, { rounds: 0, lateAnswers: 1, latestAnswerMs: 45_000 });
  t.match(
    renderText(late, DEFAULT_THRESHOLDS, 'files'),
    /^Catch-up:\n {2}0 rounds \(0 failed\): .*\n {2}1 answered late \(over 30 s after they were sent; the latest 45\.0 s\)$/m,
  );
});
