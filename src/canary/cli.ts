import { ConfigError, EXIT_CONFIG } from '../config.js';
import { createLog } from '../log.js';
import { createProxyAgent } from '../webex/proxy/agent.js';
import { loadCanaryConfig } from './config.js';
import { Hydra } from './hydra.js';
import { runCanary } from './canary.js';

export const EXIT_CANARY_FAILED = 2;

/** `toodles canary`: exit 0 when the bot answered, 2 when not (78 for a bad setting). */
export async function runCanaryCli(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  // Should the event loop ever run dry before a verdict, the process must not exit 0 ("the bot answered").
  process.exitCode = EXIT_CANARY_FAILED;
  if (args.length) {
    process.stderr.write(`toodles canary: unknown argument "${args[0]}" (settings come from the environment)\n`);
    return 64;
  }
  let config;
  try {
    config = loadCanaryConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`toodles canary: bad configuration: ${err.message}\n`);
    return EXIT_CONFIG;
  }
  const { logger, close } = await createLog({ level: config.logLevel, secrets: [config.token, config.proxy.proxyUrl?.password ?? ''] });
  const hydra = new Hydra(config.hydraUrl, config.token, await createProxyAgent(config.proxy));
  const result = await runCanary({ hydra, socketPath: config.socketPath, timeoutMs: config.timeoutMs, log: logger });
  await close();
  return result.ok ? 0 : EXIT_CANARY_FAILED;
}
