import t from 'tap';
import { decideAccess, isOpen, OPEN_ACCESS, type AccessSettings } from '../../src/bot/access.js';

const direct = { id: 'D1', type: 'direct' as const };
const team = { id: 'G1', type: 'group' as const };
const other = { id: 'G2', type: 'group' as const };
const person = (email: string) => ({ email, isBot: false });
const bot = (email: string) => ({ email, isBot: true });

t.test('nothing set: every person, everywhere; bots still ignored', async (t) => {
  t.ok(isOpen(OPEN_ACCESS));
  t.equal(decideAccess(OPEN_ACCESS, person('a@x.org'), direct), 'allowed');
  t.equal(decideAccess(OPEN_ACCESS, person('a@x.org'), other), 'allowed');
  t.equal(decideAccess(OPEN_ACCESS, bot('pinger@webex.bot'), direct), 'ignored');
});

t.test('emails and domains, case-insensitive; a bot only by its own address', async (t) => {
  const s: AccessSettings = { emails: ['boss@partner.org', 'pinger@webex.bot'], domains: ['example.com'], rooms: [] };
  t.notOk(isOpen(s));
  t.equal(decideAccess(s, person('Alice@Example.com'), direct), 'allowed');
  t.equal(decideAccess(s, person('boss@partner.org'), team), 'allowed');
  t.equal(decideAccess(s, person('mallory@evil.test'), direct), 'denied');
  t.equal(decideAccess(s, person('alice@example.com.evil.test'), direct), 'denied', 'a domain matches whole');
  t.equal(decideAccess(s, bot('pinger@webex.bot'), direct), 'allowed');
  t.equal(decideAccess(s, bot('helper@example.com'), direct), 'ignored', 'an allowed domain does not let its bots in');
});

t.test('rooms limit the group spaces; 1:1 spaces are judged on the person', async (t) => {
  const s: AccessSettings = { emails: [], domains: ['example.com'], rooms: ['G1'] };
  t.equal(decideAccess(s, person('a@example.com'), team), 'allowed');
  t.equal(decideAccess(s, person('a@example.com'), other), 'denied');
  t.equal(decideAccess(s, person('a@example.com'), direct), 'allowed');
  t.equal(decideAccess(s, person('m@evil.test'), team), 'denied');
  const roomsOnly: AccessSettings = { emails: [], domains: [], rooms: ['G1'] };
  t.equal(decideAccess(roomsOnly, person('anyone@x.org'), team), 'allowed');
  t.equal(decideAccess(roomsOnly, person('anyone@x.org'), other), 'denied');
  t.equal(decideAccess(roomsOnly, person('anyone@x.org'), direct), 'denied', 'with only rooms set, nobody in 1:1');
});
