#!/usr/bin/env node
import { checkDirectories, ConfigError, EXIT_CONFIG, loadConfig } from './config.js';

const USAGE = `usage: toodles <command>
  run                    run the bot daemon (configuration from the environment)
  start                  run the daemon if WEBEX_BOT_TOKEN is set, else the local demo chat
  demo                   the local demo: simulator, bot and a terminal chat
  simulator [--port N]   run the local Webex simulator and print the settings that point toodles at it
  monitor [--help]       check the bot's reconnects, deaf time and restarts (journal or --log-dir); exit 0/1/2/3
  activity [--since 7d] [--person EMAIL] [--command NAME] [--json | --csv]
                         the audit trail: every command run and card submit
  status [--json]        what the running daemon is doing (from its control socket); exit 3 when none answers
  canary                 prove a message from a second identity reaches the bot and is answered; exit 0 or 2
  reload                 the running daemon reads its settings file again (what systemctl reload runs); exit 0, 78 refused
  config check [FILE]    would the daemon take this settings file (default /etc/toodles/toodles.env)? exit 0 or 78
  new-command NAME [--form]
                         write a starter command module and its test into $TOODLES_COMMANDS_DIR (else here)`;

async function run(): Promise<number> {
  let config;
  try {
    config = loadConfig();
    for (const full of checkDirectories(config)) process.stderr.write(`toodles: warning: ${full}\n`);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`toodles: bad configuration: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    throw err;
  }
  // loaded here: the SDK takes a moment, which `toodles monitor` and the others need not wait for
  const started = import('./daemon/daemon.js').then(({ startDaemon }) => startDaemon(config));
  // Listening from the first moment: a stop asked for while the daemon starts is carried out once it runs.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(
      signal,
      () =>
        void started.then(
          (daemon) => daemon.stop(signal),
          () => undefined,
        ),
    );
  }
  // A reload, as for most daemons (Node's default would end the process); its outcome is in the log.
  process.on(
    'SIGHUP',
    () =>
      void started.then(
        (daemon) => daemon.reload('SIGHUP'),
        () => undefined,
      ),
  );
  return (await started).done;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return run();
    case 'start':
      if (process.env.WEBEX_BOT_TOKEN || process.env.CREDENTIALS_DIRECTORY) return run();
      return (await import('./demo.js')).runDemo();
    case 'demo':
      return (await import('./demo.js')).runDemo();
    case 'activity': {
      const { runActivity } = await import('./activity/cli.js');
      return runActivity(
        rest,
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
      );
    }
    case 'simulator':
      await (await import('./simulator/cli.js')).runSimulatorCli(rest);
      return 0;
    case 'monitor':
      return (await import('./monitor/cli.js')).runMonitor(rest);
    case 'status':
      return (await import('./control/status-cli.js')).runStatus(rest);
    case 'canary':
      return (await import('./canary/cli.js')).runCanaryCli(rest);
    case 'reload':
      return (await import('./settings/reload-cli.js')).runReload(rest);
    case 'config':
      return (await import('./settings/check-cli.js')).runConfig(rest);
    case 'new-command':
      return (await import('./modules/new-command.js')).runNewCommand(
        rest,
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
      );
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 64 : 0;
    default:
      process.stderr.write(`toodles: unknown command "${command}"\n${USAGE}\n`);
      return 64;
  }
}

// The SDK leaves timers behind for ~10 s after teardown; the daemon is done when main says so.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`toodles: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
