import type { Config } from '../config.js';
import { createLog, type DaemonLog, type Logger } from '../log.js';

/** The daemon's log from its configuration, or the one a test hands in (which the daemon does not close). */
export async function createOwnLog(config: Config, given?: Logger): Promise<DaemonLog> {
  if (given) return { logger: given, close: async () => undefined };
  // The proxy's password is a secret too: scrub it wherever an error message might quote the proxy URL.
  const secrets = [config.token, config.proxy.proxyUrl?.password ?? '', databasePassword(config)];
  return createLog({ level: config.logLevel, dir: config.logDir, secrets });
}

function databasePassword(config: Config): string {
  if (!config.cluster) return '';
  const url = new URL(config.cluster.databaseUrl);
  return decodeURIComponent(url.password) || url.searchParams.get('password') || '';
}
