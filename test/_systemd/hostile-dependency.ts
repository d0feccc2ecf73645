/**
 * A dependency whose install script does what issue 21's audit did from a build that ran as the
 * service user: write outside its tree, read the bot's credential, settings, state, logs and control
 * socket, reach the network, patch the release (its compiled code, its unit, the running release, and
 * sd-notify, which install.sh then loaded as root), and leave a process behind. It prints one line per
 * attempt, `HOSTILE <attempt>: done|failed (<why>)`, which npm shows with npm_config_foreground_scripts.
 *
 * `hostileSource(port)` is a program for `node --input-type=module - SRC DEST`, run as root in the nested
 * systemd: DEST becomes a copy of the source tree SRC whose package.json and package-lock.json add that
 * dependency (a tarball in DEST/src, which install.sh copies into its staging tree). `port` is one the
 * script tries to reach on 127.0.0.1 (the Webex simulator's).
 */

/** The attempts, by the words the script prints. */
export const ATTEMPTS = {
  home: 'write /root/PWNED.txt',
  etc: 'write /etc/PWNED.txt',
  credential: 'read /run/credentials/toodles.service/webex-bot-token',
  tokenFile: 'read /etc/toodles/webex-bot-token',
  settings: 'read /etc/toodles/toodles.env',
  state: 'list /var/lib/toodles',
  logs: 'list /var/log/toodles',
  socket: 'open /run/toodles/control.sock',
  network: 'connect to 127.0.0.1',
  dist: 'patch dist/src/cli.js',
  unit: 'patch systemd/toodles.service',
  running: 'patch /opt/toodles/current/dist/src/cli.js',
  linger: 'leave a process running',
  sdNotify: 'patch node_modules/sd-notify/index.js',
} as const;

/** What the patched sd-notify would write when loaded: it must never exist. */
export const SD_NOTIFY_PROOF = '/root/PWNED-by-sd-notify.txt';

const installScript = (port: number) => `// hostile-dep's install script (a test of install.sh's build sandbox)
const fs = require('fs');
const path = require('path');
const { execFileSync, spawn } = require('child_process');
const release = path.resolve(__dirname, '..', '..');
const say = (what, outcome) => console.log('HOSTILE ' + what + ': ' + outcome);
const attempt = (what, act) => {
  try {
    const got = act();
    say(what, 'done' + (got === undefined ? '' : ' (' + got + ')'));
  } catch (e) {
    say(what, 'failed (' + (e.code || (e.status !== undefined ? 'exit ' + e.status : String(e.message).split('\\n')[0])) + ')');
  }
};
say('identity', 'uid=' + process.getuid() + ' gid=' + process.getgid() + ' groups=' + process.getgroups().join(','));
attempt(${JSON.stringify(ATTEMPTS.home)}, () => fs.writeFileSync('/root/PWNED.txt', 'ran as uid ' + process.getuid()));
attempt(${JSON.stringify(ATTEMPTS.etc)}, () => fs.writeFileSync('/etc/PWNED.txt', 'ran as uid ' + process.getuid()));
attempt(${JSON.stringify(ATTEMPTS.credential)}, () => fs.readFileSync('/run/credentials/toodles.service/webex-bot-token').length + ' bytes');
attempt(${JSON.stringify(ATTEMPTS.tokenFile)}, () => fs.readFileSync('/etc/toodles/webex-bot-token').length + ' bytes');
attempt(${JSON.stringify(ATTEMPTS.settings)}, () => fs.readFileSync('/etc/toodles/toodles.env').length + ' bytes');
attempt(${JSON.stringify(ATTEMPTS.state)}, () => fs.readdirSync('/var/lib/toodles').join(' '));
attempt(${JSON.stringify(ATTEMPTS.logs)}, () => fs.readdirSync('/var/log/toodles').join(' '));
attempt(${JSON.stringify(ATTEMPTS.socket)}, () => fs.accessSync('/run/toodles/control.sock', fs.constants.W_OK));
attempt(${JSON.stringify(ATTEMPTS.network)}, () => execFileSync('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/${port}'], { stdio: 'pipe' }));
attempt(${JSON.stringify(ATTEMPTS.dist)}, () => fs.appendFileSync(path.join(release, 'dist/src/cli.js'), '\\n// hostile\\n'));
attempt(${JSON.stringify(ATTEMPTS.unit)}, () => fs.appendFileSync(path.join(release, 'systemd/toodles.service'), '\\n[Service]\\nUser=root\\n'));
attempt(${JSON.stringify(ATTEMPTS.running)}, () => fs.appendFileSync('/opt/toodles/current/dist/src/cli.js', '\\n// hostile\\n'));
attempt(${JSON.stringify(ATTEMPTS.linger)}, () => spawn('sleep', ['600'], { detached: true, stdio: 'ignore' }).unref());
attempt(${JSON.stringify(ATTEMPTS.sdNotify)}, () =>
  fs.appendFileSync(
    path.join(release, 'node_modules/sd-notify/index.js'),
    '\\n;require("fs").writeFileSync(${JSON.stringify(SD_NOTIFY_PROOF)}, "ran as uid " + process.getuid());\\n',
  ),
);
`;

export const hostileSource = (port: number) => `
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [src, dest] = process.argv.slice(2);
rmSync(dest, { recursive: true, force: true });
mkdirSync(dest);
execFileSync('bash', ['-c', 'tar -C "$0" --exclude=node_modules --exclude=dist --exclude=.git --exclude=.tap -cf - . | tar -C "$1" -xf -', src, dest]);
const pack = join(dest, '.hostile');
mkdirSync(join(pack, 'package'), { recursive: true });
writeFileSync(join(pack, 'package', 'package.json'), JSON.stringify({ name: 'hostile-dep', version: '1.0.0', license: 'MIT', scripts: { install: 'node install.js' } }));
writeFileSync(join(pack, 'package', 'install.js'), ${JSON.stringify(installScript(port))});
const tarball = join(dest, 'src', 'hostile-dep-1.0.0.tgz');
execFileSync('tar', ['-C', pack, '-czf', tarball, 'package']);
rmSync(pack, { recursive: true });
const spec = 'file:src/hostile-dep-1.0.0.tgz';
const integrity = 'sha512-' + createHash('sha512').update(readFileSync(tarball)).digest('base64');
const edit = (file, change) => {
  const json = JSON.parse(readFileSync(join(dest, file), 'utf8'));
  change(json);
  writeFileSync(join(dest, file), JSON.stringify(json, null, 2) + '\\n');
};
edit('package.json', (p) => (p.dependencies['hostile-dep'] = spec));
edit('package-lock.json', (l) => {
  l.packages[''].dependencies['hostile-dep'] = spec;
  l.packages['node_modules/hostile-dep'] = { version: '1.0.0', resolved: spec, integrity, hasInstallScript: true, license: 'MIT' };
});
`;
