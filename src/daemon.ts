import type { Config } from './config.js';
import { EXIT_AUTH, EXIT_RESTART } from './config.js';
import { createLog, type Logger } from './log.js';
import { Dispatcher } from './bot/dispatcher.js';
import type { Command } from './bot/command.js';
import { isOpen } from './bot/access.js';
import { allCommands } from './commands/index.js';
import { openStorage, schedulePruning } from './storage/index.js';
import { DEFAULT_TIMINGS, Supervisor, type SupervisorStatus, type SupervisorTimings } from './connection/supervisor.js';
import { DEFAULT_SEEN, SeenActivities, type PersistenceReport } from './connection/seen-activities.js';
import { Pacer, type RetryPolicy } from './connection/recovery.js';
import { systemdNotifier, type Notifier } from './systemd/notifier.js';
import { SdkWebexLink } from './webex/link.js';
import { DeviceStore } from './webex/device-record.js';
import { createMercuryAgent, createRestAgent, describeProxy, installRestProxy } from './webex/proxy.js';
import { DAEMON_MERCURY, type MercuryTuning } from './webex/sdk.js';
import type { IncomingActivity } from './webex/types.js';
import { packageVersion } from './version.js';
import { errorText } from './util/error-text.js';
import { DaemonStats } from './stats/stats.js';
import { Metrics } from './metrics/metrics.js';
import { expose } from './control/expose.js';
import { statusDocument } from './control/status.js';
import { Database, type DatabaseOptions } from './database/database.js';
import { Cluster, type ClusterTimings } from './cluster/cluster.js';
import { fencedApi } from './cluster/fence.js';
import { HeardActivities } from './heard/heard.js';

/** Knobs tests turn to make minutes into milliseconds; production uses the defaults. */
export interface DaemonTuning {
  timings?: Partial<SupervisorTimings>;
  mercury?: MercuryTuning;
  handlerTimeoutMs?: number;
  /** Each Webex REST attempt is abandoned after this long. */
  requestTimeoutMs?: number;
  /** Builds the retry policy (default: paced recovery; bench:recovery passes the old backoff as its baseline). */
  retry?: () => RetryPolicy;
  extraCommands?: Command[];
  notifier?: Notifier;
  /** The supervisor's clock (tests jump it to stand for a long outage). */
  now?: () => number;
  /** Use this logger instead of building one from the config (in-process tests). */
  logger?: Logger;
  /** Leases, sweeps and database waits in milliseconds instead of seconds (cluster tests). */
  cluster?: { timings?: Partial<ClusterTimings>; database?: Pick<DatabaseOptions, 'queryTimeoutMs' | 'probeMinMs' | 'probeMaxMs'> };
}

export interface RunningDaemon {
  status(): SupervisorStatus;
  stop(reason: string): void;
  /** Resolves with the process exit code once the daemon has shut down. */
  done: Promise<number>;
}

const PROXY_ERROR_FRESH_MS = 30_000;
/** States in which a socket receives and the bot knows who it is: it can answer. */
const ONLINE = new Set<SupervisorStatus['state']>(['online', 'rotating', 'draining']);

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

function statusLine(s: SupervisorStatus, detail: string, everOnline: boolean, proxyTrouble?: string): string {
  if (s.state === 'online') {
    const last = s.lastReconnectMs === undefined ? '' : `, last took ${s.lastReconnectMs} ms`;
    return `${STATUS_WORDS.online} as ${s.bot?.displayName ?? 'bot'}: listening (reconnects: ${s.reconnects}${last})`;
  }
  if (s.state !== 'backing_off') return `${STATUS_WORDS[s.state]}: ${detail}`;
  const why = proxyTrouble ? `${proxyTrouble}; ${detail}` : detail;
  return everOnline ? `${STATUS_WORDS.backing_off}: ${why}` : `Cannot reach Webex yet: ${why}`;
}

/** Wires config, logging, systemd, Webex and the bot together and runs until stopped. */
export function startDaemon(config: Config, tuning: DaemonTuning = {}): RunningDaemon {
  const ownLog = createOwnLog(config, tuning);
  const { logger } = ownLog;
  const notifier = tuning.notifier ?? systemdNotifier();
  const version = packageVersion();
  const startedAt = Date.now();
  const watchdogMs = notifier.watchdogIntervalMs;
  const timings: SupervisorTimings = {
    ...DEFAULT_TIMINGS,
    reconnectIntervalMs: config.reconnectIntervalMs,
    drainTimeoutMs: config.drainTimeoutMs,
    ...(watchdogMs > 0 ? { tickMs: Math.min(DEFAULT_TIMINGS.tickMs, watchdogMs) } : {}),
    ...tuning.timings,
  };
  logger.info({
    event: 'daemon.start',
    version,
    node: process.version,
    reconnectIntervalMs: timings.reconnectIntervalMs,
    drainTimeoutMs: timings.drainTimeoutMs,
    watchdogMs,
    stateDir: config.stateDir,
    proxy: describeProxy(config.proxy),
  });

  const metrics = config.metricsListen ? new Metrics(() => supervisor.status()) : undefined;
  const stats = new DaemonStats(metrics);
  const proxyErrors = proxyErrorReporter(logger);
  const restAgent = createRestAgent(config.proxy, proxyErrors.options);
  const link = new SdkWebexLink({
    sdk: {
      token: config.token,
      u2cUrl: config.u2cUrl,
      hydraUrl: config.hydraUrl,
      mercury: { ...DAEMON_MERCURY, ...tuning.mercury },
      // One hanging upgrade is given up after 10 s; hedged attempts beside it keep the pace meanwhile.
      wsOptions: { handshakeTimeout: Math.min(timings.connectTimeoutMs, 10_000), agent: createMercuryAgent(config.proxy, proxyErrors.options) },
    },
    log: logger,
    requestTimeoutMs: tuning.requestTimeoutMs,
    prepareSdk: (sdk) => installRestProxy(sdk, restAgent),
    observer: stats,
    deviceStore: config.stateDir ? new DeviceStore(config.stateDir) : undefined,
  });
  let ready = false;
  let lastState: { status: SupervisorStatus; detail: string } | undefined;
  const announce = () => {
    if (lastState) notifier.status(statusLine(lastState.status, lastState.detail, ready, proxyErrors.recent()) + persistence.note());
  };
  const persistence = persistenceReporter(logger, config.stateDir, announce);
  const heard = new HeardActivities();
  const supervisor: Supervisor = new Supervisor({
    link,
    log: logger,
    seen: new SeenActivities({ ...DEFAULT_SEEN, stateDir: config.stateDir, onPersistence: persistence.report }),
    onReceive: (activity) => heard.add(activity.id),
    // The bot's own messages need no claim: nobody answers them.
    handle: (activity) => (cluster && activity.actorId !== connection().bot?.id ? cluster.handle(activity) : handleActivity(activity)),
    drainAlso: () => cluster?.drain() ?? Promise.resolve(),
    timings,
    backoff: tuning.retry?.() ?? new Pacer(),
    onState: (status, detail) => {
      lastState = { status, detail };
      announce();
      if (status.state === 'online' && !ready) {
        ready = true;
        notifier.ready();
        logger.info({ event: 'daemon.ready', durationMs: Date.now() - startedAt });
      }
    },
    onProgress: watchdogPinger(notifier, stats),
    onReconnect: (r) => stats.reconnected(r),
    now: tuning.now,
  });
  const connection = () => supervisor.status();
  const handleActivity = (activity: IncomingActivity) => {
    if (activity.actorId !== connection().bot?.id) stats.activity(activity.kind);
    return dispatcher.handle(activity);
  };
  const database = config.cluster
    ? new Database({ url: config.cluster.databaseUrl, log: logger, applicationName: `toodles/${config.cluster.instance}`, ...tuning.cluster?.database })
    : undefined;
  const cluster: Cluster | undefined = database && config.cluster
    ? new Cluster({
        db: database,
        settings: config.cluster,
        version,
        log: logger,
        handle: handleActivity,
        canTakeOver: () => ONLINE.has(connection().state),
        // The grace after the database returns covers the preferred instance's slowest probe.
        timings: { drainTimeoutMs: timings.drainTimeoutMs, graceMs: tuning.cluster?.database?.probeMaxMs ?? 5_000, ...tuning.cluster?.timings },
        observer: metrics?.countClaims(),
      })
    : undefined;
  if (cluster) metrics?.watchCluster(() => cluster.status());
  cluster?.start();
  const storage = openStorage({ dir: config.stateDir, log: logger, database });
  const stopPruning = schedulePruning(storage, config.activityDays, logger);
  if (isOpen(config.access)) {
    logger.warn({ event: 'access.open', hint: 'everyone may use the bot: set TOODLES_ALLOWED_EMAILS, TOODLES_ALLOWED_DOMAINS or TOODLES_ALLOWED_ROOMS' });
  }
  const commandDeps = { version, startedAt, now: Date.now, connection, storage, settings: config.commands, log: logger };
  const dispatcher: Dispatcher = new Dispatcher({
    api: cluster ? fencedApi(link) : link,
    commands: allCommands(commandDeps, tuning.extraCommands),
    bot: () => connection().bot,
    log: logger,
    handlerTimeoutMs: tuning.handlerTimeoutMs ?? 30_000,
    access: config.access,
    storage,
    onCommand: (name, ms, ok) => stats.command(name, ms, ok),
  });
  let restartRequested = false;
  const stop = (reason: string) => {
    notifier.stopping();
    cluster?.stop();
    supervisor.stop(reason);
  };
  const exposed = expose({
    config,
    log: logger,
    stats,
    metrics,
    connection,
    livenessMs: timings.livenessTimeoutMs,
    status: () =>
      statusDocument({ version, startedAt, now: Date.now(), connection: connection(), stats: stats.snapshot(), proxy: describeProxy(config.proxy), cluster: cluster?.status() }),
    heard: (id) => heard.has(id),
    heal: {
      rebuild: (reason) => supervisor.rebuildLink(reason),
      restart: (reason) => {
        restartRequested = true; // exits non-zero: systemd's Restart=on-failure starts a fresh process
        stop(reason);
      },
    },
  });

  const onRejection = (reason: unknown) => {
    // Node 20 exits on these; the SDK produces some from its own timers. Rebuild it rather than die.
    logger.warn({ event: 'process.unhandled_rejection', err: errorText(reason) });
    supervisor.sdkFault(`unhandled rejection: ${errorText(reason)}`);
  };
  process.on('unhandledRejection', onRejection);

  const done = supervisor.run().then(async (outcome) => {
    process.off('unhandledRejection', onRejection);
    await cluster?.close();
    stopPruning();
    await storage.close();
    await database?.close();
    await (await exposed).close();
    const code = outcome.kind === 'failed' ? EXIT_AUTH : restartRequested ? EXIT_RESTART : 0;
    if (outcome.kind === 'failed') logger.error({ event: 'daemon.failed', reason: outcome.reason, exitCode: code });
    logger.info({ event: 'daemon.exit', exitCode: code, uptimeMs: Date.now() - startedAt });
    await ownLog.close();
    return code;
  });
  return {
    status: connection,
    stop,
    done,
  };
}

/** The supervisor reports progress every tick; systemd wants WATCHDOG=1 every half WatchdogSec. */
function watchdogPinger(notifier: Notifier, stats: DaemonStats): () => void {
  let lastPing = 0;
  return () => {
    const now = Date.now();
    if (notifier.watchdogIntervalMs > 0 && now - lastPing >= notifier.watchdogIntervalMs) {
      lastPing = now;
      notifier.watchdog();
      stats.watchdogPing();
    }
  };
}

/** Remembers the proxy's last failure, which the SDK reduces to "Failed to connect to socket". */
function proxyErrorReporter(logger: Logger) {
  let last: { text: string; at: number } | undefined;
  return {
    options: {
      onProxyError: (err: Error) => {
        last = { text: err.message, at: Date.now() };
        logger.warn({ event: 'proxy.error', err: err.message });
      },
    },
    recent: () => (last && Date.now() - last.at < PROXY_ERROR_FRESH_MS ? last.text : undefined),
  };
}

/** Logs the de-duplication record's write failures (already rate-limited) and keeps STATUS= honest about them. */
function persistenceReporter(logger: Logger, stateDir: string | undefined, changed: () => void) {
  let failing: string | undefined;
  return {
    report: (r: PersistenceReport) => {
      if (r.ok) logger.info({ event: 'state.write_recovered', stateDir });
      else logger.warn({ event: 'state.write_failed', stateDir, err: r.err, failures: r.failures });
      const was = failing;
      failing = r.ok ? undefined : r.err;
      if (was !== failing) changed();
    },
    note: () => (failing ? `; cannot save handled message ids in ${stateDir} (${failing}), a restart may answer some twice` : ''),
  };
}

function createOwnLog(config: Config, tuning: DaemonTuning) {
  if (tuning.logger) return { logger: tuning.logger, close: async () => undefined };
  // The proxy's password is a secret too: scrub it wherever an error message might quote the proxy URL.
  const secrets = [config.token, config.proxy.proxyUrl?.password ?? '', databasePassword(config)];
  return createLog({ level: config.logLevel, dir: config.logDir, secrets });
}

function databasePassword(config: Config): string {
  if (!config.cluster) return '';
  const url = new URL(config.cluster.databaseUrl);
  return decodeURIComponent(url.password) || url.searchParams.get('password') || '';
}
