import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';

const base = { WEBEX_BOT_TOKEN: `${'0123456789abcdef'.repeat(3)}_PF84_11111111-2222-3333-4444-555555555555` };

t.test('access and command settings: lists, case, defaults', async (t) => {
  const none = loadConfig(base);
  t.same(none.access, { emails: [], domains: [], rooms: [] });
  t.same(none.commands, { adminEmails: [] });
  t.equal(none.activityDays, 365);
  const c = loadConfig({
    ...base,
    TOODLES_ALLOWED_EMAILS: ' Boss@Partner.org , pinger@webex.bot,',
    TOODLES_ALLOWED_DOMAINS: 'Example.com,@corp.example',
    TOODLES_ALLOWED_ROOMS: 'Y2lzY29zcGFyazovL3VzL1JPT00vYWJj,Y2lzY29zcGFyazovL3VzL1JPT00vZGVm',
    TOODLES_ADMIN_EMAILS: 'Admin@Example.com',
    TOODLES_TESTING_ROOM: 'Y2lzY29zcGFyazovL3VzL1JPT00vYWJj',
    TOODLES_TESTING_ROOMS: 'Y2lzY29zcGFyazovL3VzL1JPT00vZGVm',
    TOODLES_ACTIVITY_DAYS: '90',
  });
  t.same(c.access, {
    emails: ['boss@partner.org', 'pinger@webex.bot'],
    domains: ['example.com', 'corp.example'],
    rooms: ['Y2lzY29zcGFyazovL3VzL1JPT00vYWJj', 'Y2lzY29zcGFyazovL3VzL1JPT00vZGVm'],
  });
  t.same(c.commands, { adminEmails: ['admin@example.com'], testingRoom: 'Y2lzY29zcGFyazovL3VzL1JPT00vYWJj', testingRooms: ['Y2lzY29zcGFyazovL3VzL1JPT00vZGVm'] });
  t.equal(c.activityDays, 90);
});

t.test('a bad value names its setting', async (t) => {
  const bad: Array<[string, string]> = [
    ['TOODLES_ALLOWED_EMAILS', 'alice'],
    ['TOODLES_ALLOWED_DOMAINS', 'not a domain'],
    ['TOODLES_ALLOWED_ROOMS', 'room with spaces'],
    ['TOODLES_ADMIN_EMAILS', 'admin@'],
    ['TOODLES_TESTING_ROOM', 'a,b'],
    ['TOODLES_TESTING_ROOMS', 'x y'],
    ['TOODLES_ACTIVITY_DAYS', '0'],
    ['TOODLES_ACTIVITY_DAYS', '7d'],
  ];
  for (const [setting, value] of bad) {
    let caught: unknown;
    try {
      loadConfig({ ...base, [setting]: value });
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof ConfigError && caught.setting === setting && !caught.message.includes('\n'), `${setting}=${value}`);
  }
});
