import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createLog } from '../../src/log.js';
import { scrubber } from '../../src/log/scrub.js';
import { daemonEnv, ROOT } from '../kit/spawn-daemon.js';

t.test('secrets are scrubbed from the serialized line, whichever field carries them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-log-'));
  const token = 'SECRETTOKENabcdef0123456789_PF84_org';
  const proxyPassword = 'hunter2%40x';
  const log = await createLog({ level: 'info', dir, secrets: [token, proxyPassword, ''], journal: false });
  log.logger.info({
    event: 'test.leak',
    err: `request to http://u:${proxyPassword}@proxy:3128 failed`,
    detail: { nested: `Bearer ${token}` },
  });
  await log.close();
  const file = readdirSync(dir).find((f) => f.endsWith('.log'));
  const text = readFileSync(join(dir, file!), 'utf8');
  t.match(text, /"event":"test.leak"/);
  t.notMatch(text, token);
  t.notMatch(text, proxyPassword);
  t.match(text, /u:\[redacted\]@proxy/);
});

t.test('a one-character proxy password: every line stays valid JSON with its timestamp and numbers intact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-log-'));
  const log = await createLog({ level: 'info', dir, secrets: ['1'], journal: false });
  log.logger.info({ event: 'reconnect.done', durationMs: 1111, deafMs: 1, reason: 'scheduled 1' });
  log.logger.warn({
    event: 'proxy.error',
    err: 'connect to https://bob:1@proxy.corp:3128 failed (status 401)',
    headers: { authorization: 'Basic Ym9iOjE=' },
  });
  await log.close();
  const file = readdirSync(dir).find((f) => f.endsWith('.log'));
  const lines = readFileSync(join(dir, file!), 'utf8').trim().split('\n');
  t.equal(lines.length, 2);
  const [done, err] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(done!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'timestamp intact');
  t.equal(done!.durationMs, 1111);
  t.equal(done!.deafMs, 1);
  t.equal(done!.reason, 'scheduled 1', 'text that merely contains the password is left alone');
  t.equal(err!.err, 'connect to https://bob:[redacted]@proxy.corp:3128 failed (status 401)', 'the URL userinfo is redacted');
  t.same(err!.headers, { authorization: '[redacted]' }, 'Authorization headers are redacted');
  t.notMatch(lines.join('\n'), '[redacted]1', 'nothing half-redacted');
});

t.test('the rolling files limit holds across restarts: several processes, each rolling, leave at most the limit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-roll-'));
  const count = 3;
  // Each process writes until it has rolled (a file numbered above the highest it found), however
  // many lines that takes on a loaded machine, and fails if 500 lines never made it roll.
  const script = `
    import { readdirSync } from 'node:fs';
    import { createLog } from ${JSON.stringify(join(ROOT, 'dist/src/log.js'))};
    const dir = process.argv[2];
    const highest = () => Math.max(1, ...readdirSync(dir).map((f) => Number(/^toodles\\.(\\d+)\\.log$/.exec(f)?.[1] ?? 0)));
    const before = highest();
    const log = await createLog({ level: 'info', dir, secrets: [], journal: false, roll: { size: '1k', count: ${count} } });
    for (let i = 0; i < 500 && highest() <= before; i++) { log.logger.info({ event: 'test.fill', i, pad: 'x'.repeat(3000) }); await new Promise((r) => setTimeout(r, 20)); }
    const rolled = highest() > before;
    await log.close();
    if (!rolled) { console.error('no roll after 500 lines'); process.exitCode = 1; }`;
  // lines larger than the roll size: pino-roll rolls after a drain, which small writes may never cause
  const file = join(dir, 'roll.mjs'); // a file, not -e: the roll worker would inherit --input-type
  writeFileSync(file, script);
  const seen = new Set<string>();
  const highestSeen = () => Math.max(0, ...[...seen].map((f) => Number(/\.(\d+)\.log$/.exec(f)?.[1] ?? 0)));
  // Every process rolls at least once, so count + 1 of them make more files than the limit keeps.
  for (let run = 0; run < count + 1; run++) {
    const r = spawnSync(process.execPath, [file, dir], { env: daemonEnv({}), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    t.equal(r.status, 0, `process ${run + 1} exits 0 ${r.stderr}`);
    const files = readdirSync(dir).filter((f) => f.startsWith('toodles'));
    files.forEach((f) => seen.add(f));
    t.ok(files.length <= count, `after process ${run + 1}: ${files.length} files (${files.join(' ')}) <= ${count}`);
  }
  const highest = highestSeen();
  t.ok(highest > count + 1, `the processes rolled up to toodles.${highest}.log, more files than the limit keeps`);
});

t.test('scrubbing a line that is not JSON still redacts credentials', async (t) => {
  t.equal(
    scrubber(['SECRETTOKEN123'])('oops SECRETTOKEN123 via http://u:p@h/ Bearer abc'),
    'oops [redacted] via http://u:[redacted]@h/ Bearer [redacted]',
  );
});
