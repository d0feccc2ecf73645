/**
 * The one table of sentences operators read in `journalctl -u toodles` (the journal's MESSAGE). Each
 * event logged anywhere gets a sentence here; an event without one still reads as a sentence (its name
 * and fields), never as JSON. Fields arrive as logged (camelCase, after secret scrubbing).
 */
export type LogFields = Record<string, unknown>;
type Sentence = (f: LogFields) => string;

const ms = (v: unknown) => (typeof v === 'number' ? `${v} ms` : '? ms');
const secs = (v: unknown) => (typeof v === 'number' ? `${Math.round(v / 1000)} s` : '? s');
const text = (v: unknown, fallback = '') => (v === undefined || v === null ? fallback : typeof v === 'string' ? v : JSON.stringify(v));
const because = (v: unknown) => (v === undefined ? '' : ` (${text(v)})`);
const outcomeText = (v: unknown) =>
  v === undefined || v === 'ok' ? 'answered' : v === 'too_old' ? 'not run, sent too long ago (the sender was told)' : `ended ${text(v)}`;
const list = (v: unknown) => (Array.isArray(v) ? v.map((i) => text(i)).join(', ') : '');

const SENTENCES: Record<string, Sentence> = {
  'daemon.start': (f) =>
    `toodles ${text(f.version)} starting on Node ${text(f.node)}; reconnect every ${secs(f.reconnectIntervalMs)}, watchdog ${f.watchdogMs ? ms(f.watchdogMs) : 'off'}, proxy ${text(f.proxy, 'none')}`,
  'daemon.ready': (f) => `Ready: connected to Webex ${ms(f.durationMs)} after start`,
  'daemon.failed': (f) => `Giving up: ${text(f.reason)}; exiting with ${text(f.exitCode)}`,
  'daemon.exit': (f) => `Exiting with status ${text(f.exitCode)} after ${secs(f.uptimeMs)} up`,
  'connection.state': (f) => `Connection ${text(f.from)} -> ${text(f.to)}${because(f.reason)}`,
  'reconnect.start': (f) => `Reconnecting${because(f.reason)}`,
  'reconnect.done': (f) => `Reconnected in ${ms(f.durationMs)}${because(f.reason)}; deaf ${ms(f.deafMs)}`,
  'reconnect.wait': (f) =>
    `Webex unreachable for ${secs(f.outageMs)}${because(f.reason)}; next attempt in ${ms(f.delayMs)} (attempt ${text(f.attempt)})`,
  'reconnect.failed': (f) => `Graceful reconnect failed, keeping the current connection${because(f.reason)}`,
  'liveness.failed': (f) => `Connection silent for ${ms(f.silentMs)}: treating it as lost`,
  'connection.closed': (f) => `Connection lost (${text(f.code, 'no code')} ${text(f.reason)})`,
  'connection.close_failed': (f) => `Closing connection ${text(f.connection)} failed: ${text(f.err)}`,
  'connection.torn_down': (f) => `Connection ${text(f.connection)} torn down${because(f.reason)}`,
  'connection.disconnect_error': (f) => `Disconnecting connection ${text(f.connection)} reported: ${text(f.err)}`,
  'drain.start': (f) => `Draining ${text(f.inFlight)} in-flight handler(s) of the old connection`,
  'drain.done': (f) => `Drained in ${ms(f.durationMs)}`,
  'drain.timeout': (f) => `Drain gave up after ${ms(f.durationMs)} with ${text(f.abandoned)} handler(s) unfinished${because(f.what)}`,
  'watchdog.withheld': (f) => `Watchdog withheld: state ${text(f.state)} overran its deadline by ${secs(f.overdueMs)}`,
  'supervisor.stop_requested': (f) => `Stop requested${because(f.reason)}`,
  'webex.identity': (f) => `Signed in to Webex as ${text(f.displayName)}`,
  'webex.device': (f) => `Webex device ${f.reused ? 'reused' : 'registered'}`,
  'webex.device_record_failed': (f) =>
    `Could not record the Webex device in the state directory (${text(f.err)}); a crash may leave it behind`,
  'webex.device_adopted': () => 'Adopted the Webex device registered by an earlier run',
  'webex.device_orphan_removed': () => 'Removed an orphaned Webex device registration',
  'webex.unregistered': () => 'Webex device unregistered',
  'webex.unregister_failed': (f) => `Could not unregister the Webex device: ${text(f.err)}`,
  'webex.rest_retry': (f) => `Webex ${text(f.what)} answered ${text(f.status, 'no status')}; retry ${text(f.attempt)} in ${ms(f.waitMs)}`,
  'webex.sdk_renew': (f) => `Replacing the Webex SDK instance${because(f.reason)}`,
  'proxy.error': (f) => `Proxy error: ${text(f.err)}`,
  'process.unhandled_rejection': (f) => `Unhandled rejection, rebuilding the SDK: ${text(f.err)}`,
  'activity.malformed': (f) => `Ignored a malformed Webex activity: ${text(f.err)}`,
  'activity.ignored': (f) => `Ignored a Webex activity (${text(f.verb, 'no verb')})`,
  'activity.duplicate': (f) => `Ignored message ${text(f.id)}: already handled`,
  'activity.failed': (f) => `Handling message ${text(f.id)} failed: ${text(f.err)}`,
  'activity.record_failed': (f) => `Could not record message ${text(f.id)} as handled (${text(f.err)}); handling it anyway`,
  'state.write_failed': (f) =>
    `Cannot save handled message ids (${text(f.err)}; ${text(f.failures)} failure(s)): answering from memory, a restart may answer some twice`,
  'state.write_recovered': () => 'Saving handled message ids works again',
  'command.received': (f) =>
    f.command
      ? `Command ${text(f.command)} received in a ${text(f.room, '?')} space`
      : `Unknown command received in a ${text(f.room, '?')} space`,
  'command.done': (f) =>
    `${text(f.command, 'unknown command')}${f.person ? ` from ${text(f.person)}` : ''} ${outcomeText(f.outcome)} in ${ms(f.durationMs)}`,
  'command.skipped': (f) => `Skipped message ${text(f.id)}${because(f.reason)}`,
  'command.failed': (f) => `${text(f.command)} failed after ${ms(f.durationMs)} (reference ${text(f.ref)}): ${text(f.err)}`,
  'card.received': (f) => `Card action received${f.command ? ` for ${text(f.command)}` : ''}`,
  'card.extra_inputs': (f) => `Card submit for ${text(f.command)} carried unexpected inputs (ignored): ${text(f.inputs)}`,
  'card.delete_failed': (f) => `Could not delete a submitted form: ${text(f.err)}`,
  'access.open': () => 'No access rule is set: everyone may use the bot (set TOODLES_ALLOWED_EMAILS, _DOMAINS or _ROOMS)',
  'access.denied': (f) =>
    `Refused ${text(f.command, 'a message')} from ${text(f.person, 'someone')} in a ${text(f.roomType, '?')} space${because(f.reason)}`,
  'person.lookup_failed': (f) => `Could not look up who sent a message: ${text(f.err)}`,
  'storage.open': (f) =>
    f.database
      ? `Records in PostgreSQL ${text(f.database)}${Array.isArray(f.applied) && f.applied.length ? `; schema steps applied: ${f.applied.join(', ')}` : ''}`
      : `Database open${f.dir ? ` in ${text(f.dir)}` : ' in memory'}${f.readonly ? ' (read-only)' : ''}`,
  'storage.open_failed': (f) =>
    `Cannot open the database in ${text(f.database ?? f.dir)}: ${text(f.err)}; commands still run, nothing is recorded`,
  'storage.failed': (f) => `Database ${text(f.op, 'operation')} failed: ${text(f.err)}; the command still ran`,
  'storage.pruned': (f) => `Pruned ${text(f.removed)} audit record(s) older than ${text(f.days)} days`,
  'modules.loaded': (f) =>
    `Command modules in ${text(f.dir)}: ${Array.isArray(f.commands) && f.commands.length ? f.commands.join(', ') : 'none'}${f.skipped ? `; ${text(f.skipped)} module(s) skipped` : ''}`,
  'module.skipped': (f) => `Skipped command module ${text(f.file)}: ${text(f.why, 'it could not be loaded')}`,
  'module.log': (f) => `${text(f.command, 'a command module')}: ${text(f.text)}`,
  'testing.announce_failed': (f) => `Could not announce testing entry #${text(f.entry)}: ${text(f.err)}`,
  'control.listening': (f) => `Control socket listening at ${text(f.path)}`,
  'control.failed': (f) => `Control socket at ${text(f.path)} could not start: ${text(f.err)}; toodles status will not answer`,
  'metrics.listening': (f) => `Serving /healthz and /metrics on ${text(f.host)}:${text(f.port)}`,
  'metrics.failed': (f) => `Cannot serve /healthz and /metrics on ${text(f.host)}:${text(f.port)}: ${text(f.err)}`,
  'daemon.heal': (f) =>
    `Healing asked for: ${f.action === 'restart' ? 'exiting so systemd restarts the bot' : 'rebuilding the Webex link from scratch'}${because(f.reason)}`,
  'webex.link_rebuild': (f) => `Rebuilding the Webex link: fresh SDK instance and a new device${because(f.reason)}`,
  'webex.device_dropped': () => 'Deleted the old Webex device registration',
  'webex.device_drop_failed': (f) => `Could not delete the old Webex device registration: ${text(f.err)}`,
  'canary.ok': (f) => `Canary: the bot answered ping in ${ms(f.roundTripMs)}`,
  'canary.failed': (f) => `Canary failed at ${text(f.stage)}: ${text(f.reason)}`,
  'canary.heal': (f) =>
    `Canary: ${text(f.consecutiveFailures)} failures in a row, asking the daemon to ${f.action === 'restart' ? 'restart' : 'rebuild its Webex link'}`,
  'canary.heal_failed': (f) => `Canary could not ask the daemon to ${text(f.action)}: ${text(f.err)}`,
  'canary.report_failed': (f) => `Canary could not report its result to the daemon: ${text(f.err)}`,
  'log.files_failed': (f) =>
    `Cannot write the log files in ${text(f.dir)} (${text(f.err)}): logging to the journal only until the next start`,
  'database.down': (f) => `Shared database ${text(f.target)} unreachable: ${text(f.err)}; probing until it answers`,
  'database.up': (f) => `Shared database ${text(f.target)} answers again after ${ms(f.downMs)}`,
  'database.migrated': (f) => `Shared database schema brought up to date: ${text(f.steps)}`,
  'database.migrate_failed': (f) => `Cannot bring the shared database schema up to date (${text(f.err)}); retrying`,
  'cluster.start': (f) =>
    `Instance ${text(f.instance)} joining the cluster on ${text(f.target)}; preferred instance ${text(f.preferredInstance)}, claim lease ${ms(f.leaseMs)}`,
  'cluster.peers': (f) => `Peers seen through the database now: ${Array.isArray(f.peers) && f.peers.length ? f.peers.join(', ') : 'none'}`,
  'claim.won': (f) => `Claimed message ${text(f.id)} in ${ms(f.latencyMs)}: this instance answers it`,
  'claim.lost': (f) => `Message ${text(f.id)} already claimed by another instance`,
  'claim.taken_over': (f) => `Took over message ${text(f.id)} from ${text(f.previousOwner)}, whose claim expired unanswered`,
  'claim.fenced': (f) => `Withheld the reply to message ${text(f.id)}: ${text(f.reason)}`,
  'claim.held': (f) => `Message ${text(f.id)} held ${ms(f.heldMs)} for the shared database; this instance is now ${text(f.state, '?')}`,
  'claim.alone': (f) =>
    `Shared database away${because(f.reason)}: answering alone as the preferred instance (${text(f.suppressed, '0')} more since the last line)`,
  'claim.dropped': (f) =>
    `Shared database away${because(f.reason)}: leaving message ${text(f.id)} to the preferred instance ${text(f.preferredInstance)} (${text(f.suppressed, '0')} more since the last line)`,
  'claim.pruned': (f) => `Pruned ${text(f.removed)} claim(s) past the retention`,
  'catchup.start': (f) =>
    `Catching up on what was sent while the bot could not hear, ${text(f.from, '?')} to ${text(f.to, '?')}${because(f.why)}`,
  'catchup.done': (f) =>
    `Caught up in ${ms(f.durationMs)}: ${text(f.spaces, '0')} space(s) scanned, ${text(f.found, '0')} message(s) found, ${text(f.answered, '0')} answered, ${text(f.alreadyAnswered, '0')} already answered, ${text(f.tooOld, '0')} too old, ${text(f.leftOver, '0')} space(s) left over the cap; ${text(f.requests, '0')} request(s)`,
  'catchup.failed': (f) =>
    `Catching up on ${text(f.from, '?')} to ${text(f.to, '?')} failed after ${ms(f.durationMs)}: ${text(f.err)}; next: ${text(f.next, 'none')}`,
  'catchup.space_failed': (f) =>
    `Catching up: listing a ${text(f.roomType, '?')} space failed (${text(f.err)}); its messages stay unanswered`,
  'catchup.mark_unreadable': (f) =>
    `The heard-through mark ${text(f.file)} is unreadable (${text(f.err)}): nothing missed before this start is caught up on`,
  'catchup.mark_ahead': (f) => `The heard-through mark ${text(f.file)} is ${ms(f.aheadMs)} in the future (the clock went back?): using now`,
  'catchup.mark_write_failed': (f) =>
    `Cannot save the heard-through mark ${text(f.file)} (${text(f.err)}): after a restart the bot catches up from an older mark, or not at all`,
  'config.reload': (f) =>
    `Settings reloaded${f.trigger === 'SIGHUP' ? ' (SIGHUP)' : ''}: ${list(f.changed) ? `${list(f.changed)} now in force` : 'no live setting changed'}${list(f.ignored) ? `; ignored as systemd ignores them: ${list(f.ignored)}` : ''}`,
  'config.reload_failed': (f) => `Reload refused, the running settings are kept: ${text(f.err)}`,
  'config.restart_needed': (f) => `${list(f.settings) || 'Some settings'} changed: takes effect at the next restart`,
  'journal.degraded': (f) =>
    `The journal socket refused entries: ${text(f.fallback)} written to stdout instead, ${text(f.dropped)} dropped (${text(f.lastError)})`,
};

const NOT_FIELDS = new Set(['event', 'level', 'time', 'pid', 'hostname', 'msg']);

/** The human sentence for one log event. */
export function sentence(fields: LogFields): string {
  const event = typeof fields.event === 'string' ? fields.event : undefined;
  const known = event === undefined ? undefined : SENTENCES[event];
  if (known) return known(fields);
  const rest = Object.entries(fields)
    .filter(([k]) => !NOT_FIELDS.has(k))
    .map(([k, v]) => `${k} ${text(v)}`)
    .join(', ');
  const head = event ?? text(fields.msg, 'log entry');
  return rest ? `${head}: ${rest}` : head;
}

/** Events that have a sentence of their own (the README's list must be a subset). */
export function describedEvents(): string[] {
  return Object.keys(SENTENCES);
}
