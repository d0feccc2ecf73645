/**
 * bench:reconnect's strategy B, a program of its own: what the old bot did. Same SDK adapter (loading
 * the SDK's packages as shipped, not the build's bundle), same device reuse, same dispatcher and
 * commands; on each reconnect it closes the socket it has and then opens the next one
 * (break-then-make), and it answers whatever arrives, since it keeps no record of what it has already
 * answered.
 */
import { Dispatcher } from '../../src/bot/dispatcher.js';
import { OPEN_ACCESS } from '../../src/bot/access.js';
import { commandRegistry } from '../../src/commands/index.js';
import type { SupervisorStatus } from '../../src/connection/supervisor.js';
import { openStorage } from '../../src/storage/index.js';
import { sleep } from '../../src/util/bounded.js';
import { packageVersion } from '../../src/version.js';
import { SdkWebexLink } from '../../src/webex/link.js';
import { DAEMON_MERCURY } from '../../src/webex/sdk.js';
import type { LinkConnection } from '../../src/webex/types.js';
import { runBotChild } from './bot-child.js';

runBotChild(async ({ args, meter, logger, stop }) => {
  const link = new SdkWebexLink({
    sdk: {
      token: args.token,
      u2cUrl: args.u2cUrl,
      hydraUrl: args.hydraUrl,
      // The daemon's own Mercury settings, so both sides ping alike.
      mercury: DAEMON_MERCURY,
      wsOptions: { handshakeTimeout: 20_000 },
      // A bare SDK bot loads the SDK's packages as shipped; toodles loads the build's bundle.
      source: 'packages',
    },
    log: logger,
  });
  const startedAt = Date.now();
  let reconnects = 0;
  const bot = await link.start(AbortSignal.timeout(30_000));
  const status = (): SupervisorStatus => ({ state: 'online', since: startedAt, reconnects, bot });
  const storage = await openStorage({ log: logger });
  const dispatcher = new Dispatcher({
    api: link,
    commands: commandRegistry({
      version: packageVersion(),
      startedAt,
      now: Date.now,
      connection: status,
      storage,
      settings: () => ({ adminEmails: [] }),
      log: logger,
    }),
    bot: () => bot,
    log: logger,
    handlerTimeoutMs: 30_000,
    access: () => OPEN_ACCESS,
    adminEmails: () => [],
    storage,
  });
  const open = async (): Promise<LinkConnection> => {
    for (;;) {
      try {
        const conn = await link.connect(AbortSignal.timeout(20_000));
        conn.onActivity((activity) => {
          dispatcher
            .handle(activity)
            .catch((err: unknown) => logger.error({ event: 'activity.failed', id: activity.id, err: String(err) }));
        });
        return conn;
      } catch (err) {
        logger.warn({ event: 'naive.connect_failed', err: String(err) });
        await sleep(100);
      }
    }
  };
  let conn = await open();
  meter.ready();
  let stopping = false;
  void stop.then(() => (stopping = true));
  for (;;) {
    await Promise.race([sleep(args.intervalMs), stop]);
    if (stopping) break;
    const closeStarted = Date.now();
    await conn.close(); // break...
    conn = await open(); // ...then make
    reconnects += 1;
    const deafMs = Date.now() - closeStarted;
    meter.reconnected(deafMs, deafMs);
  }
  await conn.close();
  await link.shutdown(AbortSignal.timeout(10_000)).catch(() => undefined);
});
