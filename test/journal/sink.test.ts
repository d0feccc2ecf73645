import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, mkdtempSync, fstatSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../kit/spawn-daemon.js';
import { JournalSink, journalFields, journalSocket, priorityOf } from '../../src/journal/sink.js';
import { describedEvents, sentence } from '../../src/journal/messages.js';
import { encodeEntry, MAX_DATAGRAM_BYTES } from '../../src/journal/protocol.js';
import { createLog } from '../../src/log.js';
import { stdoutIsJournal } from '../../src/journal/stream.js';
import { fakeJournal, fakeJournalPath } from '../kit/fake-journal.js';

t.test('each log event becomes one native entry: sentence, priority, identifier, every field', async (t) => {
  const journal = fakeJournal();
  t.teardown(() => journal.close());
  const log = await createLog({ level: 'debug', secrets: [], journal: journalSocket(journal.path) });
  log.logger.info({ event: 'reconnect.done', reason: 'scheduled', durationMs: 14, deafMs: 0, connection: 3 });
  log.logger.warn({ event: 'liveness.failed', connection: 3, silentMs: 25_000 });
  log.logger.error({ event: 'watchdog.withheld', state: 'connecting', overdueMs: 31_000 });
  log.logger.debug({ event: 'activity.ignored', verb: 'share', detail: { nested: 'x\ny' } });
  await journal.waitFor(4);
  await log.close();
  const [done, live, wd, dbg] = journal.entries;
  t.equal(done!.get('MESSAGE'), 'Reconnected in 14 ms (scheduled); deaf 0 ms');
  t.equal(done!.get('EVENT'), 'reconnect.done');
  t.equal(done!.get('DURATION_MS'), '14');
  t.equal(done!.get('DEAF_MS'), '0');
  t.equal(done!.get('REASON'), 'scheduled');
  t.equal(done!.get('SYSLOG_IDENTIFIER'), 'toodles');
  t.equal(done!.get('PRIORITY'), '6');
  t.notOk(done!.has('TIME') || done!.has('LEVEL') || done!.has('PID'), 'no fields the journal has its own of');
  t.equal(live!.get('PRIORITY'), '4');
  t.equal(wd!.get('PRIORITY'), '3');
  t.equal(wd!.get('MESSAGE'), 'Watchdog withheld: state connecting overran its deadline by 31 s');
  t.equal(dbg!.get('PRIORITY'), '7');
  t.equal(dbg!.get('DETAIL_NESTED'), 'x\ny', 'nested objects flatten; a multi-line value arrives whole');
  for (const e of journal.entries) t.notMatch(e.get('MESSAGE')!, /^\{/, 'MESSAGE is never JSON');
});

t.test('secrets are scrubbed from every journal field', async (t) => {
  const journal = fakeJournal();
  t.teardown(() => journal.close());
  const token = 'SECRETTOKENabcdef0123456789_PF84_org';
  const log = await createLog({ level: 'info', secrets: [token, '1'], journal: journalSocket(journal.path) });
  log.logger.warn({ event: 'proxy.error', err: `connect http://u:1@proxy:3128 failed; Bearer ${token}`, token, durationMs: 1111 });
  await journal.waitFor(1);
  await log.close();
  const e = journal.entries[0]!;
  for (const [k, v] of e) t.notOk(v.includes(token), `token not in ${k}`);
  t.equal(e.get('ERR'), 'connect http://u:[redacted]@proxy:3128 failed; Bearer [redacted]');
  t.equal(e.get('DURATION_MS'), '1111', 'a one-character password leaves numbers alone');
});

t.test('without a journal socket: a <N> line on stdout, counted, reported once the socket is back', async (t) => {
  const path = fakeJournalPath();
  const lines: string[] = [];
  const sink = new JournalSink({ sender: journalSocket(path), fallback: (l) => void lines.push(l) });
  sink.write(JSON.stringify({ level: 50, event: 'command.failed', command: 'ping', durationMs: 5, ref: 'ab12', err: 'boom' }) + '\n');
  sink.write(JSON.stringify({ level: 30, event: 'drain.done', durationMs: 7 }) + '\n');
  t.same(lines, ['<3>ping failed after 5 ms (reference ab12): boom\n', '<6>Drained in 7 ms\n']);
  const journal = fakeJournal(path);
  t.teardown(() => journal.close());
  sink.write(JSON.stringify({ level: 30, event: 'drain.done', durationMs: 8 }) + '\n');
  await journal.waitFor(2);
  t.equal(journal.entries[1]!.get('EVENT'), 'journal.degraded');
  t.equal(journal.entries[1]!.get('FALLBACK'), '2');
  t.equal(journal.entries[1]!.get('DROPPED'), '0');
  t.equal(journal.entries[1]!.get('PRIORITY'), '4');
  t.match(journal.entries[1]!.get('MESSAGE')!, /2 written to stdout instead, 0 dropped/);
  sink.close();
  sink.close(); // twice is harmless
});

t.test('when stdout fails too, entries are dropped and counted, never thrown', async (t) => {
  const path = fakeJournalPath();
  const sink = new JournalSink({
    sender: journalSocket(path),
    fallback: () => {
      throw new Error('EAGAIN');
    },
  });
  t.doesNotThrow(() => sink.write('not json at all\n'));
  sink.write(JSON.stringify({ level: 30, event: 'daemon.ready', durationMs: 1 }) + '\n');
  const journal = fakeJournal(path);
  t.teardown(() => journal.close());
  sink.write(JSON.stringify({ level: 30, event: 'daemon.ready', durationMs: 2 }) + '\n');
  await journal.waitFor(2);
  t.equal(journal.entries[1]!.get('DROPPED'), '2');
  sink.close();
});

t.test('a real process without a journal socket falls back to <N> lines on its stdout', async (t) => {
  const script = `
    import { createLog } from ${JSON.stringify(join(ROOT, 'dist/src/log.js'))};
    import { journalSocket } from ${JSON.stringify(join(ROOT, 'dist/src/journal/sink.js'))};
    const log = await createLog({ level: 'info', secrets: [], journal: journalSocket('/nonexistent/journal.socket') });
    log.logger.warn({ event: 'liveness.failed', silentMs: 25000 });
    await log.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '<4>Connection silent for 25000 ms: treating it as lost\n');
});

t.test('JOURNAL_STREAM counts only when it names stdout itself', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'toodles-js-')), 'f');
  const fd = openSync(file, 'w');
  t.teardown(() => closeSync(fd));
  const st = fstatSync(fd, { bigint: true });
  t.equal(stdoutIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd), true);
  t.equal(stdoutIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }, fd), false);
  t.equal(stdoutIsJournal({}, fd), false);
  t.equal(stdoutIsJournal({ JOURNAL_STREAM: '1:2' }, 987654), false, 'a closed fd is not the journal');
});

t.test('priorities per level', async (t) => {
  t.same([60, 50, 40, 30, 20, 10, undefined].map(priorityOf), [2, 3, 4, 6, 7, 7, 6]);
});

t.test('every event in the README has its own sentence; unknown events still read as a sentence', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const list = /Log events operators follow[\s\S]*?\n\n/.exec(readme)?.[0] ?? '';
  const named = [...list.matchAll(/`([a-z_]+\.[a-z_]+)`/g)].map((m) => m[1]!);
  t.ok(named.length >= 15, `README names ${named.length} events`);
  const known = new Set(describedEvents());
  for (const event of named) t.ok(known.has(event), `${event} has a sentence`);
  for (const event of describedEvents()) {
    const s = sentence({ event });
    t.notMatch(s, /^\{/, `${event}: a sentence even without fields ("${s}")`);
    t.notMatch(s, /undefined/, `${event}: no "undefined" in "${s}"`);
  }
  t.equal(sentence({ event: 'status.served', client: 'cli', durationMs: 3 }), 'status.served: client cli, durationMs 3');
  t.equal(sentence({ msg: 'plain' }), 'plain');
  t.equal(sentence({}), 'log entry');
  t.same(journalFields({ level: 30, event: 'x.y', a: null, b: [1, 2] }).slice(3), [
    ['EVENT', 'x.y'],
    ['B', '[1,2]'],
  ]);
});

t.test('JOURNAL_STREAM naming stdout switches the logger to journal entries (here without journald: <N> lines)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-js-'));
  const out = join(dir, 'stdout');
  const fd = openSync(out, 'w');
  const st = fstatSync(fd, { bigint: true });
  const script = join(dir, 'log.mjs');
  writeFileSync(
    script,
    `import { createLog } from ${JSON.stringify(join(ROOT, 'dist/src/log.js'))};
     const log = await createLog({ level: 'info', secrets: [] });
     log.logger.error({ event: 'watchdog.withheld', state: 'connecting', overdueMs: 31000 });
     await log.close();`,
  );
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
  let r = run({ JOURNAL_STREAM: `${st.dev}:${st.ino}` });
  t.equal(r.status, 0, r.stderr);
  const journald = existsSync('/run/systemd/journal/socket');
  if (!journald) t.equal(readFileSync(out, 'utf8'), '<3>Watchdog withheld: state connecting overran its deadline by 31 s\n');
  r = run({ JOURNAL_STREAM: '1:1' }); // stale: stdout was redirected since
  closeSync(fd);
  t.equal(r.status, 0, r.stderr);
  t.match(
    readFileSync(out, 'utf8'),
    /\{"level":50,"time":"[^"]+","pid":\d+,"event":"watchdog.withheld"/,
    'JSON line when stdout is not the journal',
  );
});

t.test('datagram sizes on a real socket: a capped entry arrives whole; an oversized datagram fails at once', async (t) => {
  const journal = fakeJournal();
  t.teardown(() => journal.close());
  const sender = journalSocket(journal.path);
  const fields: Array<[string, string]> = [
    ['MESSAGE', 'big'],
    ['PRIORITY', '6'],
  ];
  for (let i = 0; i < 12; i++) fields.push([`F${i}`, 'z'.repeat(20_000)]);
  const dg = encodeEntry(fields);
  t.ok(dg.length <= MAX_DATAGRAM_BYTES, `entry capped to ${dg.length} bytes`);
  t.equal(sender.send(dg), undefined, 'the capped entry is accepted');
  await journal.waitFor(1);
  t.equal(journal.entries[0]!.get('MESSAGE'), 'big');
  const t0 = Date.now();
  const err = sender.send(Buffer.alloc(1024 * 1024, 0x41));
  t.ok(err instanceof Error, `a 1 MiB datagram is refused (${err?.message})`);
  t.ok(Date.now() - t0 < 100, 'without blocking');
  sender.close();
  t.match(sender.send(dg)?.message, /closed/, 'a closed socket refuses, never aborts');
});
