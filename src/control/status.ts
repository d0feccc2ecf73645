/** The status document `toodles status` prints: built in the daemon, rendered on one screen by the CLI. */
import type { SupervisorStatus } from '../connection/supervisor.js';
import type { ClusterStatus } from '../cluster/cluster.js';
import type { StatsSnapshot } from '../stats/stats.js';
import type { CatchUpSummary } from '../catchup/catchup.js';
import { duration } from '../util/duration.js';

export interface StatusDocument {
  version: string;
  pid: number;
  startedAt: string;
  uptimeS: number;
  bot?: { displayName: string; email?: string };
  connection: { state: SupervisorStatus['state']; since: string; forS: number };
  reconnects: StatsSnapshot['reconnects'];
  lastReconnect?: { at: string; kind: string; reason?: string; durationMs: number; deafMs: number };
  deafSTotal: number;
  messages: number;
  cardSubmits: number;
  commandFailures: number;
  lastMessageAt?: string;
  lastCommand?: { name: string; at: string; ok: boolean };
  watchdogLastPingAt?: string;
  proxy: string;
  device?: { registered: true; at: string; reused: boolean; url?: string };
  canary: { last?: { at: string; ok: boolean; stage?: string; roundTripMs?: number }; lastOkAt?: string; consecutiveFailures: number };
  lastHeal?: { at: string; action: string; reason: string };
  /** What was sent while the bot could not hear: off (TOODLES_CATCHUP_MAX_AGE_S=0), and the last round, times as ISO strings. */
  catchUp: { off: boolean; last?: Omit<CatchUpSummary, 'from' | 'to' | 'startedAt'> & { from: string; to: string; startedAt: string } };
  /** Only when several instances share a database. */
  cluster?: {
    instance: string;
    owner: string;
    preferredInstance: string;
    state: ClusterStatus['state'];
    peers: string[];
    claims: ClusterStatus['claims'];
    database: { health: string; target: string; since: string; lastError?: string; queries: number };
  };
}

export interface StatusFacts {
  version: string;
  startedAt: number;
  now: number;
  connection: SupervisorStatus;
  stats: StatsSnapshot;
  proxy: string;
  catchUp: { off: boolean; last?: CatchUpSummary };
  cluster?: ClusterStatus;
}

function iso(ms: number): string;
function iso(ms: number | undefined): string | undefined;
function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
const secs = (ms: number) => Math.round(ms / 100) / 10;

export function statusDocument(f: StatusFacts): StatusDocument {
  const { stats: s, connection: c } = f;
  const round = f.catchUp.last;
  return {
    version: f.version,
    pid: process.pid,
    startedAt: iso(f.startedAt),
    uptimeS: secs(f.now - f.startedAt),
    bot: c.bot && { displayName: c.bot.displayName, email: c.bot.emails[0] },
    connection: { state: c.state, since: iso(c.since), forS: secs(f.now - c.since) },
    reconnects: s.reconnects,
    lastReconnect: s.lastReconnect && { ...s.lastReconnect, at: iso(s.lastReconnect.at) },
    deafSTotal: secs(s.deafMsTotal),
    messages: s.messages,
    cardSubmits: s.cardSubmits,
    commandFailures: s.commandFailures,
    lastMessageAt: iso(s.lastMessageAt),
    lastCommand: s.lastCommand && { ...s.lastCommand, at: iso(s.lastCommand.at) },
    watchdogLastPingAt: iso(s.watchdogLastPingAt),
    proxy: f.proxy,
    device: s.device && { registered: true, at: iso(s.device.at), reused: s.device.reused, url: s.device.url },
    canary: {
      last: s.canary.last && { ...s.canary.last, at: iso(s.canary.last.at) },
      lastOkAt: iso(s.canary.lastOkAt),
      consecutiveFailures: s.canary.consecutiveFailures,
    },
    lastHeal: s.lastHeal && { ...s.lastHeal, at: iso(s.lastHeal.at) },
    catchUp: {
      off: f.catchUp.off,
      last: round && { ...round, from: iso(round.from), to: iso(round.to), startedAt: iso(round.startedAt) },
    },
    cluster: f.cluster && { ...f.cluster, database: { ...f.cluster.database, since: iso(f.cluster.database.since) } },
  };
}

/** One screen for an operator: every line a label and plain words. */
export function renderStatus(d: StatusDocument, now = Date.now()): string {
  const ago = (at: string | undefined) => (at ? `${duration(now - Date.parse(at))} ago` : 'never');
  const last = d.lastReconnect;
  const canary = d.canary.last;
  const rows: Array<[string, string]> = [
    ['toodles', `${d.version}, pid ${d.pid}, up ${duration(d.uptimeS * 1000)}`],
    ['connection', `${d.connection.state} for ${duration(d.connection.forS * 1000)}${d.bot ? ` (as ${d.bot.displayName})` : ''}`],
    ['reconnects', `${d.reconnects.graceful} graceful, ${d.reconnects.fault} after faults`],
    [
      'last reconnect',
      last
        ? `${ago(last.at)}, ${last.kind} (${last.reason ?? 'no reason'}), took ${last.durationMs} ms, deaf ${last.deafMs} ms`
        : 'none yet',
    ],
    ['deaf in total', `${d.deafSTotal} s`],
    [
      'messages',
      `${d.messages} handled (last ${ago(d.lastMessageAt)}), ${d.cardSubmits} card submits, ${d.commandFailures} command failures`,
    ],
    [
      'last command',
      d.lastCommand ? `${d.lastCommand.name}, ${d.lastCommand.ok ? 'answered' : 'FAILED'} ${ago(d.lastCommand.at)}` : 'none yet',
    ],
    ['watchdog', d.watchdogLastPingAt ? `last ping ${ago(d.watchdogLastPingAt)}` : 'not pinged (no systemd watchdog)'],
    ['proxy', d.proxy],
    ['device', d.device ? `registered (${d.device.reused ? 'refreshed' : 'new'}) ${ago(d.device.at)}` : 'not registered'],
    [
      'canary',
      canary
        ? `${canary.ok ? `ok, round trip ${canary.roundTripMs} ms` : `FAILED at ${canary.stage}`} ${ago(canary.at)}; ${d.canary.consecutiveFailures} failures in a row`
        : 'no run reported',
    ],
    ['healing', d.lastHeal ? `${d.lastHeal.action} ${ago(d.lastHeal.at)} (${d.lastHeal.reason})` : 'none'],
    ...catchUpRows(d.catchUp, ago),
    ...(d.cluster ? clusterRows(d.cluster, ago) : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** The last catch-up round: when, why and the gap; then what it found, or why it failed. */
function catchUpRows(c: StatusDocument['catchUp'], ago: (at: string) => string): Array<[string, string]> {
  if (c.off) return [['last catch-up', 'off (TOODLES_CATCHUP_MAX_AGE_S=0)']];
  const r = c.last;
  if (!r) return [['last catch-up', 'none yet']];
  const gapMs = Date.parse(r.to) - Date.parse(r.from);
  const when = `${ago(r.startedAt)} (${r.causes.join(', ')}), a gap of ${gapMs < 60_000 ? `${secs(gapMs)} s` : duration(gapMs)}`;
  if (r.outcome === 'failed') return [['last catch-up', `${when}; FAILED after ${r.durationMs} ms: ${r.err ?? 'no reason'}`]];
  return [
    ['last catch-up', `${when}; took ${r.durationMs} ms, ${r.requests ?? 0} requests`],
    [
      'caught up',
      `${r.found ?? 0} found: ${r.answered ?? 0} answered, ${r.alreadyAnswered ?? 0} already answered, ${r.tooOld ?? 0} too old; ` +
        `${r.leftOver ?? 0} spaces left over${r.failedSpaces ? `, ${r.failedSpaces} could not be listed` : ''}`,
    ],
  ];
}

function clusterRows(c: NonNullable<StatusDocument['cluster']>, ago: (at: string) => string): Array<[string, string]> {
  const n = c.claims;
  const db = c.database;
  return [
    [
      'instance',
      `${c.instance} (${c.state}); preferred instance ${c.preferredInstance}${c.instance === c.preferredInstance ? ' (this one)' : ''}`,
    ],
    ['peers', c.peers.length ? `${c.peers.join(', ')} (seen in the last 30 s)` : 'none seen in the last 30 s'],
    [
      'claims',
      `${n.won} won, ${n.lost} lost, ${n.taken_over} taken over, ${n.alone} answered alone, ${n.dropped} dropped while away, ${n.fenced} fenced`,
    ],
    ['database', `${db.health} since ${ago(db.since)}, ${db.target}${db.lastError ? ` (${db.lastError})` : ''}`],
  ];
}
