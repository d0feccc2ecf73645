import type { SupervisorStatus } from '../connection/supervisor.js';

const STATUS_WORDS: Record<SupervisorStatus['state'], string> = {
  starting: 'Starting: signing in to Webex',
  connecting: 'Connecting to Webex',
  online: 'Online',
  rotating: 'Online, graceful reconnect in progress',
  draining: 'Online on a new connection, finishing work on the old one',
  backing_off: 'Webex connection lost, reconnecting',
  stopping: 'Stopping: finishing in-flight work',
  stopped: 'Stopped',
  failed: 'Failed',
};

/** The STATUS= line for a connection state; detail is the supervisor's reason for it. */
export function statusLine(s: SupervisorStatus, detail: string, everOnline: boolean, proxyTrouble?: string): string {
  if (s.state === 'online') {
    const last = s.lastReconnectMs === undefined ? '' : `, last took ${s.lastReconnectMs} ms`;
    return `${STATUS_WORDS.online} as ${s.bot?.displayName ?? 'bot'}: listening (reconnects: ${s.reconnects}${last})`;
  }
  if (s.state !== 'backing_off') return `${STATUS_WORDS[s.state]}: ${detail}`;
  const why = proxyTrouble ? `${proxyTrouble}; ${detail}` : detail;
  return everOnline ? `${STATUS_WORDS.backing_off}: ${why}` : `Cannot reach Webex yet: ${why}`;
}

/** Added to STATUS= while the de-duplication record cannot be saved. */
export function saveFailureNote(stateDir: string | undefined, err: string): string {
  return `; cannot save handled message ids in ${stateDir} (${err}), a restart may answer some twice`;
}
