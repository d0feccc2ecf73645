import type { Room, Sender } from './command.js';

/** Who may use the bot; empty lists mean "no rule". Emails and domains are lower-case. */
export interface AccessSettings {
  emails: readonly string[];
  domains: readonly string[];
  /** Group spaces the bot acts in (room ids). 1:1 spaces are judged on the person alone. */
  rooms: readonly string[];
}

export type AccessDecision = 'allowed' | 'denied' | 'ignored';

export const OPEN_ACCESS: AccessSettings = { emails: [], domains: [], rooms: [] };

export function isOpen(s: AccessSettings): boolean {
  return !s.emails.length && !s.domains.length && !s.rooms.length;
}

/**
 * Other bots are ignored unless their address is listed (a domain is not enough: it would let every
 * bot of the company in). With only rooms set, the bot acts in those spaces and nowhere else.
 */
export function decideAccess(s: AccessSettings, sender: Pick<Sender, 'email' | 'isBot'>, room: Room): AccessDecision {
  const email = sender.email.toLowerCase();
  const listed = s.emails.includes(email);
  if (sender.isBot && !listed) return 'ignored';
  const domain = email.slice(email.lastIndexOf('@') + 1);
  const peopleRule = s.emails.length > 0 || s.domains.length > 0;
  const personOk = peopleRule ? listed || s.domains.includes(domain) : room.type === 'group' || !s.rooms.length;
  const roomOk = room.type === 'direct' || !s.rooms.length || s.rooms.includes(room.id);
  return personOk && roomOk ? 'allowed' : 'denied';
}
