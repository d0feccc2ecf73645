import t from 'tap';
import { covers, normaliseTarget, parseTargets } from '../../src/commands/testing/targets.js';
import { entryFromForm, when } from '../../src/commands/testing/form.js';

t.test('targets: hosts, IPs, CIDRs and URLs are accepted, anything else named', async (t) => {
  for (const good of [
    '10.1.2.3',
    '10.1.2.0/24',
    '2001:db8::/32',
    '::1',
    'web01',
    'Scanner.Vendor.example',
    '*.example.com',
    'https://app.example.com/login',
    'http://[2001:db8::1]:8080/',
  ]) {
    t.not(normaliseTarget(good), undefined, good);
  }
  for (const bad of [
    '10.0.0.300',
    '10.1.2.0/33',
    'bad_host!',
    'ftp://x.example',
    'http://',
    '-lead.example',
    'a..b',
    '',
    'https://exa mple.com',
  ]) {
    t.equal(normaliseTarget(bad), undefined, JSON.stringify(bad));
  }
  t.same(parseTargets('10.1.2.0/24, scanner.vendor.example\nbad_host! 10.1.2.0/24'), {
    targets: ['10.1.2.0/24', 'scanner.vendor.example'],
    bad: ['bad_host!'],
    tooMany: false,
  });
  t.equal(parseTargets(Array.from({ length: 51 }, (_v, i) => `10.0.0.${i}`).join(' ')).tooMany, true);
});

t.test('covers: exact hosts, URL hosts, IPs inside CIDRs, wildcards', async (t) => {
  const targets = ['10.1.2.0/24', 'scanner.vendor.example', 'https://app.example.com/login', '2001:db8::/32', '*.lab.example', '192.0.2.7'];
  for (const yes of [
    '10.1.2.77',
    '10.1.2.0',
    'SCANNER.vendor.example',
    'app.example.com',
    'https://app.example.com/other',
    '2001:db8::5',
    'x.lab.example',
    '192.0.2.7',
  ]) {
    t.ok(covers(targets, yes), yes);
  }
  for (const no of ['10.1.3.1', 'vendor.example', 'example.com', '2001:db9::1', 'lab.example', '192.0.2.8', 'not a host']) {
    t.notOk(covers(targets, no), no);
  }
});

t.test('the form: defaults, and every rule on the times', async (t) => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  const who = { createdByEmail: 'alice@example.com', createdByName: 'Alice' };
  const base = { tester: 'Red team', targets: '10.1.2.0/24', what: 'quarterly test' };
  const ok = entryFromForm({ ...base, end_date: '2026-12-02' }, who, now);
  t.ok(
    'entry' in ok && ok.entry.startsAt === now && ok.entry.endsAt === Date.parse('2026-12-02T23:59:00Z'),
    'start defaults to now, end time to 23:59',
  );
  const timed = entryFromForm(
    { ...base, start_date: '2026-12-01', start_time: '08:00', end_date: '2026-12-01', end_time: '18:30', ticket: 'SEC-1' },
    who,
    now,
  );
  t.ok('entry' in timed && timed.entry.startsAt === Date.parse('2026-12-01T08:00:00Z') && timed.entry.ticket === 'SEC-1');
  const invalid = (v: Record<string, string>) => {
    const r = entryFromForm({ ...base, ...v }, who, now);
    return 'invalid' in r ? r.invalid : 'accepted';
  };
  t.match(invalid({ end_date: '2026-11-29' }), /after the start/);
  t.match(invalid({ start_date: '2026-12-05', end_date: '2026-12-04' }), /after the start/);
  t.match(invalid({ end_date: '2027-01-15' }), /at most 30 days/);
  t.match(invalid({ start_date: '2026-11-01', end_date: '2026-11-20' }), /already past/);
  t.match(invalid({ end_date: '2026-02-31' }), /end is not a date/);
  t.match(invalid({ start_date: 'tomorrow', end_date: '2026-12-02' }), /start is not a date/);
  t.match(invalid({ targets: 'bad_host!', end_date: '2026-12-02' }), /Not a host, IP, CIDR or URL: `bad_host!`/);
  t.match(invalid({ targets: ' , ', end_date: '2026-12-02' }), /at least one target/);
  t.match(invalid({ targets: Array.from({ length: 60 }, (_v, i) => `10.0.0.${i}`).join(' '), end_date: '2026-12-02' }), /Too many/);
  t.equal(when(now), '2026-11-30 12:00 UTC');
});
