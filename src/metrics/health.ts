import type { SupervisorStatus } from '../connection/supervisor.js';

export interface Health {
  ok: boolean;
  state: SupervisorStatus['state'];
  /** Why it is not healthy, in words (absent when ok). */
  reason?: string;
  heardMsAgo?: number;
}

const RECEIVING = new Set<SupervisorStatus['state']>(['online', 'rotating', 'draining']);
const WORDS: Partial<Record<SupervisorStatus['state'], string>> = {
  starting: 'starting: signing in to Webex',
  connecting: 'connecting to Webex',
  backing_off: 'backing off: the Webex connection was lost',
  stopping: 'stopping',
  stopped: 'stopped',
  failed: 'failed: Webex refused the bot',
};

/** Healthy while a socket receives and has been heard from within the liveness window. */
export function health(s: SupervisorStatus, now: number, livenessMs: number): Health {
  if (!RECEIVING.has(s.state) || s.lastHeardAt === undefined) {
    return { ok: false, state: s.state, reason: WORDS[s.state] ?? s.state };
  }
  const heardMsAgo = now - s.lastHeardAt;
  if (heardMsAgo > livenessMs) return { ok: false, state: s.state, reason: `nothing heard from Webex for ${heardMsAgo} ms`, heardMsAgo };
  return { ok: true, state: s.state, heardMsAgo };
}
