/**
 * The Prometheus alerting rules shipped in monitoring/: valid for Prometheus (`promtool check rules`),
 * each alert with its runbook line, and each proven by the unit tests beside them (`promtool test
 * rules`: it fires on the series it is about, stays quiet on healthy ones).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../kit/spawn-daemon.js';

const DIR = join(ROOT, 'monitoring');
const RULES = join(DIR, 'toodles.rules.yml');
const TESTS = join(DIR, 'toodles.test.yml');
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

const run = async (bin: string, ...args: string[]): Promise<{ code: number; output: string }> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(bin, args, { cwd: DIR });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
};

const alerts = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);

t.test('every alert has a runbook line and unit tests', async (t) => {
  t.ok(alerts.length >= 6, `${alerts.length} alerts`);
  const rules = readFileSync(RULES, 'utf8')
    .split(/^\s*- alert: /m)
    .slice(1);
  for (const rule of rules) t.match(rule, /^\s+runbook: '?\S/m, `${rule.split('\n')[0]} has a runbook line`);
  const tests = readFileSync(TESTS, 'utf8');
  for (const name of alerts) t.match(tests, new RegExp(`alertname: ${name}$`, 'm'), `${name} is tested`);
});

if (!PROMTOOL) {
  t.test('promtool', { skip: 'promtool is not installed (apt-get install -y --no-install-recommends prometheus)' }, () => undefined);
} else {
  t.test('promtool check rules', async (t) => {
    const r = await run(PROMTOOL, 'check', 'rules', RULES);
    t.equal(r.code, 0, r.output);
    t.match(r.output, `SUCCESS: ${alerts.length} rules found`);
  });

  t.test('promtool test rules: each alert fires on its series and not on healthy ones', async (t) => {
    const r = await run(PROMTOOL, 'test', 'rules', TESTS);
    t.equal(r.code, 0, r.output);
    t.match(r.output, 'SUCCESS');
  });
}
