import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { Dispatcher } from '../bot/dispatcher.js';
import type { Command } from '../bot/command.js';
import { isOpen } from '../bot/access.js';
import { commandRegistry } from '../commands/index.js';
import { openStorage, schedulePruning } from '../storage/index.js';
import { DEFAULT_TIMINGS, Supervisor, type SupervisorStatus, type SupervisorTimings } from '../connection/supervisor.js';
import { DEFAULT_SEEN, SeenActivities } from '../connection/seen-activities.js';
import { Pacer, type RetryPolicy } from '../connection/recovery.js';
import { systemdNotifier, type Notifier } from '../systemd/notifier.js';
import { SdkWebexLink } from '../webex/link.js';
import { DeviceStore } from '../webex/device-record.js';
import { createProxyAgent } from '../webex/proxy/agent.js';
import { installRestProxy } from '../webex/proxy/rest-hook.js';
import { describeProxy } from '../webex/proxy/settings.js';
import { DAEMON_MERCURY, type MercuryTuning } from '../webex/sdk.js';
import type { IncomingActivity } from '../webex/types.js';
import { packageVersion } from '../version.js';
import { DaemonStats } from '../stats/stats.js';
import type { Metrics } from '../metrics/metrics.js';
import { expose } from '../control/expose.js';
import { statusDocument } from '../control/status.js';
import type { DatabaseOptions } from '../database/database.js';
import { openDatabase } from '../database/open.js';
import type { Cluster, ClusterDeps, ClusterTimings } from '../cluster/cluster.js';
import { fencedApi } from '../cluster/fence.js';
import { HeardActivities } from '../heard/heard.js';
import { CatchUp } from '../catchup/catchup.js';
import { Gaps, rememberForMs } from '../catchup/gaps.js';
import { HeardMark } from '../catchup/mark.js';
import { AnnouncedConnection } from './announced-connection.js';
import { SystemdAnnouncer } from './announcer.js';
import { persistenceReporter, proxyErrorReporter, watchdogPinger, watchdogTickMs } from './reporters.js';
import { createOwnLog } from './own-log.js';
import { Shutdown } from './shutdown.js';
import { LiveSettings } from '../settings/live.js';
import { Reloader, type ReloadOutcome, type ReloadTrigger } from '../settings/reload.js';

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
  /** The environment the config was loaded from (default process.env): a reload reads the settings file over it. */
  env?: Record<string, string | undefined>;
}

export interface RunningDaemon {
  status(): SupervisorStatus;
  stop(reason: string): void;
  /** Reads the settings file again and applies what can change live (see src/settings/reload.ts). */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome>;
  /** Resolves with the process exit code once the daemon has shut down. */
  done: Promise<number>;
}

/**
 * Wires config, logging, systemd, Webex and the bot together and runs until stopped. Each part is
 * made once what it needs exists: link, storage, dispatcher, cluster gate, supervisor. The parts
 * made before the supervisor read the connection from what it announces. A part the configuration
 * does not use is never loaded (the metrics, the shared database and its cluster, a proxy agent).
 */
export async function startDaemon(config: Config, tuning: DaemonTuning = {}): Promise<RunningDaemon> {
  const ownLog = await createOwnLog(config, tuning.logger);
  const { logger } = ownLog;
  const live = new LiveSettings(config, (level) => (logger.level = level));
  const notifier = tuning.notifier ?? (await systemdNotifier());
  const version = packageVersion();
  const startedAt = Date.now();
  const watchdogMs = notifier.watchdogIntervalMs;
  const timings = supervisorTimings(config, watchdogMs, tuning.timings);
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

  const connection = new AnnouncedConnection(startedAt);
  const metrics = config.metricsListen ? await createMetrics(() => connection.status()) : undefined;
  const stats = new DaemonStats(metrics);
  const gaps = new Gaps({ mark: new HeardMark({ stateDir: config.stateDir, log: logger }), maxAgeMs: config.catchUpMaxAgeMs });
  // A caught-up message may be as old as the max age: its id must be remembered that long, or a later round answers it again.
  const rememberMs = (floorMs: number) => rememberForMs(config.catchUpMaxAgeMs, floorMs);
  const proxyErrors = proxyErrorReporter(logger);
  const restAgent = await createProxyAgent(config.proxy, proxyErrors.options);
  const socketAgent = await createProxyAgent(config.proxy, proxyErrors.options);
  const link = new SdkWebexLink({
    sdk: {
      token: config.token,
      u2cUrl: config.u2cUrl,
      hydraUrl: config.hydraUrl,
      mercury: { ...DAEMON_MERCURY, ...tuning.mercury },
      // One hanging upgrade is given up after 10 s; hedged attempts beside it keep the pace meanwhile.
      wsOptions: {
        handshakeTimeout: Math.min(timings.connectTimeoutMs, 10_000),
        agent: socketAgent,
      },
    },
    log: logger,
    requestTimeoutMs: tuning.requestTimeoutMs,
    prepareSdk: (sdk) => installRestProxy(sdk, restAgent),
    observer: {
      restRetry: (status) => stats.restRetry(status),
      device: (d) => {
        stats.device(d);
        if (!d.reused) gaps.registeredNewDevice();
      },
    },
    deviceStore: config.stateDir ? new DeviceStore(config.stateDir) : undefined,
  });

  const database = config.cluster
    ? await openDatabase({
        url: config.cluster.databaseUrl,
        log: logger,
        applicationName: `toodles/${config.cluster.instance}`,
        ...tuning.cluster?.database,
      })
    : undefined;
  const storage = await openStorage({ dir: config.stateDir, log: logger, database });
  const stopPruning = schedulePruning(storage, config.activityDays, logger, { begin: connection.firstOnline });
  if (isOpen(config.access)) {
    logger.warn({
      event: 'access.open',
      hint: 'everyone may use the bot: set TOODLES_ALLOWED_EMAILS, TOODLES_ALLOWED_DOMAINS or TOODLES_ALLOWED_ROOMS',
    });
  }

  const commandDeps = {
    version,
    startedAt,
    now: Date.now,
    connection: () => connection.status(),
    storage,
    settings: () => live.commands,
    log: logger,
  };
  const commands = commandRegistry(commandDeps, tuning.extraCommands);
  // The command modules, loaded (their code with them) only when a directory is set. Nothing is
  // answered before they are in place: the supervisor starts once they are (below).
  const { dir: modulesDir, settings: moduleSettings } = config.modules;
  const modulesLoaded = modulesDir
    ? import('../modules/index.js').then(({ installModules }) =>
        installModules(commands, modulesDir, { storage, log: logger, settings: moduleSettings }),
      )
    : undefined;
  const dispatcher = new Dispatcher({
    api: config.cluster ? fencedApi(link) : link,
    commands,
    bot: () => connection.bot(),
    log: logger,
    handlerTimeoutMs: tuning.handlerTimeoutMs ?? 30_000,
    access: () => live.access,
    adminEmails: () => live.commands.adminEmails,
    storage,
    onCommand: (name, ms, ok) => stats.command(name, ms, ok),
    maxAgeMs: config.catchUpMaxAgeMs || undefined,
    offlineAt: (sentAt) => gaps.offlineAt(sentAt),
  });
  const answer = (activity: IncomingActivity) => {
    if (!connection.fromBot(activity)) stats.activity(activity.kind);
    return dispatcher.handle(activity);
  };

  const cluster =
    database && config.cluster
      ? await createCluster(
          {
            db: database,
            settings: config.cluster,
            version,
            log: logger,
            handle: answer,
            canTakeOver: () => connection.canAnswer(),
            observer: metrics?.countClaims(),
          },
          // The grace after the database returns covers the preferred instance's slowest probe.
          (defaults) => ({
            drainTimeoutMs: timings.drainTimeoutMs,
            graceMs: tuning.cluster?.database?.probeMaxMs ?? 5_000,
            retentionMs: rememberMs(defaults.retentionMs),
            ...tuning.cluster?.timings,
          }),
        )
      : undefined;
  if (cluster) metrics?.watchCluster(() => cluster.status());
  cluster?.start();
  // The bot's own messages need no claim: nobody answers them.
  const handle = cluster
    ? (activity: IncomingActivity) => (connection.fromBot(activity) ? answer(activity) : cluster.handle(activity))
    : answer;

  const announcer = new SystemdAnnouncer({ notifier, log: logger, startedAt, stateDir: config.stateDir, proxyTrouble: proxyErrors.recent });
  const reloader = new Reloader({
    env: tuning.env ?? process.env,
    envFile: config.envFile,
    live,
    log: logger,
    announce: announcer,
    modules:
      modulesDir && modulesLoaded
        ? {
            dir: modulesDir,
            stage: async (settings) =>
              (await import('../modules/index.js')).stageModules(commands, modulesDir, { storage, log: logger, settings }),
            loadedAtStart: modulesLoaded,
          }
        : undefined,
  });
  const heard = new HeardActivities();
  const seen = new SeenActivities({
    ...DEFAULT_SEEN,
    ttlMs: rememberMs(DEFAULT_SEEN.ttlMs),
    stateDir: config.stateDir,
    onPersistence: persistenceReporter(logger, config.stateDir, announcer),
  });
  const catchUp = new CatchUp({
    gaps,
    history: link,
    seen,
    handle,
    log: logger,
    bot: () => connection.bot(),
    maxAgeMs: config.catchUpMaxAgeMs,
    timings: { drainTimeoutMs: timings.drainTimeoutMs },
    onRound: (round) => metrics?.catchUpRound(round),
  });
  const pingWatchdog = watchdogPinger(notifier, stats, timings.tickMs, tuning.now);
  const supervisor = new Supervisor({
    link,
    log: logger,
    seen,
    onReceive: (activity) => {
      heard.add(activity.id);
      gaps.delivered();
    },
    handle,
    drainAlso: async () => void (await Promise.all([cluster?.drain(), catchUp.drain()])),
    timings,
    backoff: tuning.retry?.() ?? new Pacer(),
    onState: (status, detail) => {
      connection.update(status);
      announcer.stateChanged(status, detail);
      catchUp.stateChanged(status);
    },
    onProgress: (status) => {
      pingWatchdog();
      gaps.heard(status.lastHeardAt);
    },
    onReconnect: (r) => {
      stats.reconnected(r);
      catchUp.reconnected(r);
    },
    now: tuning.now,
  });

  const shutdown = new Shutdown({ notifier, ownLog, startedAt, supervisor, cluster, storage, stopPruning, database });
  const exposed = expose({
    config,
    log: logger,
    stats,
    metrics,
    // Live, not as announced: /healthz reads when the socket was last heard from.
    connection: () => supervisor.status(),
    livenessMs: timings.livenessTimeoutMs,
    status: () =>
      statusDocument({
        version,
        startedAt,
        now: Date.now(),
        connection: supervisor.status(),
        stats: stats.snapshot(),
        proxy: describeProxy(config.proxy),
        catchUp: { off: config.catchUpMaxAgeMs === 0, last: catchUp.last() },
        cluster: cluster?.status(),
      }),
    heard: (id) => heard.has(id),
    heal: {
      rebuild: (reason) => supervisor.rebuildLink(reason),
      restart: (reason) => shutdown.restart(reason),
    },
    canaryThresholds: () => live.canary,
    reload: () => reloader.reload('control'),
  });
  return {
    status: () => supervisor.status(),
    stop: (reason) => shutdown.stop(reason),
    reload: (trigger) => reloader.reload(trigger),
    done: (async () => {
      await modulesLoaded;
      return shutdown.runToExit(exposed);
    })(),
  };
}

/** prom-client, loaded only with a metrics listener. */
async function createMetrics(connection: () => SupervisorStatus): Promise<Metrics> {
  const { Metrics } = await import('../metrics/metrics.js');
  return new Metrics(connection);
}

/** The claim gate, loaded only with a database URL; its timings may build on its defaults. */
async function createCluster(
  deps: Omit<ClusterDeps, 'timings'>,
  timings: (defaults: ClusterTimings) => Partial<ClusterTimings>,
): Promise<Cluster> {
  const { Cluster, DEFAULT_CLUSTER_TIMINGS } = await import('../cluster/cluster.js');
  return new Cluster({ ...deps, timings: timings(DEFAULT_CLUSTER_TIMINGS) });
}

function supervisorTimings(config: Config, watchdogMs: number, overrides?: Partial<SupervisorTimings>): SupervisorTimings {
  return {
    ...DEFAULT_TIMINGS,
    reconnectIntervalMs: config.reconnectIntervalMs,
    drainTimeoutMs: config.drainTimeoutMs,
    tickMs: watchdogTickMs(DEFAULT_TIMINGS.tickMs, watchdogMs),
    ...overrides,
  };
}
