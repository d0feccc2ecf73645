import t from 'tap';
import { spawn } from 'node:child_process';
import { CLI, ROOT, daemonEnv } from '../kit/spawn-daemon.js';

// `npm start` without a token: the demo chat, driven the way a person types into it.
t.test('the demo: chat with the bot, break its socket, watch it recover, quit cleanly', async (t) => {
  const child = spawn(process.execPath, [CLI, 'start'], { cwd: ROOT, env: daemonEnv({}), stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (screen += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const shows = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (pattern.test(screen)) resolve();
        else if (Date.now() - started > timeoutMs) reject(new Error(`screen never showed ${pattern}:\n${screen}`));
        else return;
        clearInterval(poll);
      }, 50);
    });
  const type = (line: string) => child.stdin.write(`${line}\n`);

  await shows(/\[connection: online\]/);
  type('ping');
  await shows(/toodles> pong \(Webex round trip \d+ ms\)/);
  type('/kill');
  await shows(/killed 1 socket\(s\)/);
  await shows(/\[connection: online, reconnects 1\]/);
  type('status');
  await shows(/toodles> \*\*Version\*\*/);
  t.match(screen, /\*\*Reconnects\*\*: 1/, 'status reports the reconnect');
  // Away 40 s: what is typed meanwhile is caught up on once the bot is back, over 30 s late, so it says so.
  type('/down 40');
  await shows(/the bot is away for 40 s \(killed 1 socket\(s\), upgrades refused\)/);
  type('ping');
  await shows(
    /toodles> pong \(Webex round trip \d+ ms\)\s+_Answered late: I was offline from \d\d:\d\d:\d\d to \d\d:\d\d:\d\d UTC\._/,
    90_000,
  );
  t.pass('the message typed while the bot was away is answered late, saying when it was offline');
  type('/down soon');
  await shows(/usage: \/down \[seconds\], 1 to 600/);
  type('/devices');
  await shows(/"deleted": false/);
  type('/quit');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.equal(code, 0, 'exit 0');
  t.match(screen, /bot exited with status 0/);
  t.notMatch(screen, /_PF84_|WEBEX_BOT_TOKEN=/, 'the (simulated) token is not shown');
});
