/**
 * Standalone simulator: `toodles simulator [--port N] [--host H] [--redelivery none|queue] [--log]`.
 * Prints the environment lines the daemon needs, then runs until SIGTERM/SIGINT.
 */
import { startSimulator, type Redelivery } from './index.js';

export async function runSimulatorCli(argv: string[]): Promise<void> {
  let port = 8787;
  let host = '127.0.0.1';
  let log = false;
  let redelivery: Redelivery = 'none';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--port' || a.startsWith('--port=')) {
      port = Number(value());
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port: ${port}`);
    } else if (a === '--host' || a.startsWith('--host=')) host = value();
    else if (a === '--redelivery' || a.startsWith('--redelivery=')) {
      const v = value();
      if (v !== 'none' && v !== 'queue') throw new Error(`bad --redelivery: ${v} (none or queue)`);
      redelivery = v;
    } else if (a === '--log') log = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: toodles simulator [--port N (default 8787, 0 = any)] [--host H] [--redelivery none|queue (default none)] [--log]\n',
      );
      return;
    } else throw new Error(`unknown option: ${a}`);
  }

  const sim = await startSimulator({ port, host, logTraffic: log, redelivery });
  process.stdout.write(
    [
      `TOODLES_WEBEX_U2C_URL=${sim.u2cUrl}`,
      `TOODLES_WEBEX_HYDRA_URL=${sim.hydraUrl}`,
      // A fake token for the simulator only: printing it is harmless.
      `WEBEX_BOT_TOKEN=${sim.botToken}`,
      `# control API: ${sim.controlUrl}/state`,
      '',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      process.stderr.write(`simulator: ${signal}, stopping\n`);
      sim.stop().then(resolve, resolve);
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
