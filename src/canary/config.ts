import { httpUrl, logLevel, proxySettings, readToken, seconds, type LogLevel } from '../config.js';
import { controlSocketPath } from '../control/client.js';
import type { ProxySettings } from '../webex/proxy/settings.js';

export interface CanaryConfig {
  /** The second identity's token: never the bot's own, never logged. */
  token: string;
  hydraUrl: string;
  /** How long to wait for the bot's reply. */
  timeoutMs: number;
  proxy: ProxySettings;
  socketPath: string;
  logLevel: LogLevel;
}

type Env = Record<string, string | undefined>;

export function loadCanaryConfig(env: Env = process.env): CanaryConfig {
  return {
    token: readToken(env, 'TOODLES_CANARY_TOKEN', 'webex-canary-token'),
    hydraUrl: httpUrl(env, 'TOODLES_WEBEX_HYDRA_URL', 'https://webexapis.com/v1'),
    timeoutMs: seconds(env, 'TOODLES_CANARY_TIMEOUT_S', 30, 1),
    proxy: proxySettings(env),
    socketPath: controlSocketPath(env),
    logLevel: logLevel(env),
  };
}
