import { createInterface } from 'node:readline/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from './config.js';
import { startDaemon } from './daemon/daemon.js';
import { startSimulator, type SimMessage } from './simulator/index.js';

const YOU = 'you@example.com';

const HELP = `Type a message as ${YOU} (try: help, ping, status). Faults:
  /kill       drop the bot's socket without a close frame (1006)
  /silence    the socket stays open but nothing arrives (a zombie connection) for 15 s
  /down [N]   keep the bot away N seconds (default 10: upgrades refused with HTTP 503, its socket killed);
              what you type meanwhile is answered once it is back, over 30 s late with a line saying so
  /drain      Webex-style drain: a shutdown frame, then close 4001
  /devices    device registrations the simulator has seen
  /quit       stop the bot gracefully and exit`;

/**
 * `npm start` without a token: the Webex simulator and the bot in this process, and a terminal
 * chat in which you are a Webex user. Faults show the supervisor recovering, live.
 */
export async function runDemo(): Promise<number> {
  const sim = await startSimulator({ port: 0 });
  const logDir = mkdtempSync(join(tmpdir(), 'toodles-demo-'));
  const config = loadConfig({
    WEBEX_BOT_TOKEN: sim.botToken,
    TOODLES_WEBEX_U2C_URL: sim.u2cUrl,
    TOODLES_WEBEX_HYDRA_URL: sim.hydraUrl,
    TOODLES_RECONNECT_INTERVAL_S: '60',
    TOODLES_DRAIN_TIMEOUT_S: '5',
    TOODLES_PROXY_URL: 'direct',
  });
  const logFile = join(logDir, 'toodles.log');
  const daemon = await startDaemon(config, {
    logger: pino({ level: 'info' }, pino.destination({ dest: logFile, sync: true })),
    timings: { livenessTimeoutMs: 10_000, connectTimeoutMs: 8_000 },
    mercury: { pingInterval: 4_000, pongTimeout: 3_000 },
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`toodles demo: simulator at ${sim.baseUrl}, bot log in ${logFile} (JSON, one event a line)`);
  say(HELP);

  let lastShown = '';
  const watcher = setInterval(() => {
    const s = daemon.status();
    // A reconnect can start and finish between two looks: a new count is news even in the same state.
    const line = `  [connection: ${s.state}${s.reconnects ? `, reconnects ${s.reconnects}` : ''}]`;
    if (line !== lastShown) say((lastShown = line));
  }, 100);
  const room = sim.directRoom(YOU);
  const shown = new Set<string>();
  const showReplies = async () => {
    for (;;) {
      const m: SimMessage = await sim.waitForBotMessage((x) => !shown.has(x.id), 24 * 3600_000);
      shown.add(m.id);
      say(`toodles> ${m.markdown ?? m.text ?? ''}${m.attachments?.length ? '  [card]' : ''}`);
    }
  };
  void showReplies().catch(() => undefined);

  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === '/quit') break;
    else if (line === '/kill') say(`  killed ${sim.faults.killSockets()} socket(s)`);
    else if (line === '/silence') {
      sim.faults.silence(true);
      setTimeout(() => sim.faults.silence(false), 15_000).unref();
      say('  the socket is now a zombie for 15 s; watch the bot notice within 10 s');
    } else if (/^\/down\b/.test(line)) {
      const seconds = Number(line.slice('/down'.length).trim() || 10);
      if (!(seconds >= 1 && seconds <= 600)) say('  usage: /down [seconds], 1 to 600');
      else {
        sim.faults.refuseUpgrades({ forMs: seconds * 1000 });
        say(`  the bot is away for ${seconds} s (killed ${sim.faults.killSockets()} socket(s), upgrades refused): type something now`);
      }
    } else if (line === '/drain') say(`  drained ${sim.faults.closeSockets(4001, 'drain')} socket(s)`);
    else if (line === '/devices') say(JSON.stringify(sim.devices(), null, 2));
    else if (line) sim.postMessage({ from: YOU, roomId: room.id, text: line });
  }
  rl.close();
  say('stopping: draining in-flight work, unregistering the device...');
  daemon.stop('demo quit');
  const code = await daemon.done;
  clearInterval(watcher);
  await sim.stop();
  say(`bot exited with status ${code}`);
  return code;
}
