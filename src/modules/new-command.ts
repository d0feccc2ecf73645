// `toodles new-command NAME [--form]`: a working command module and its test, written into the
// commands directory (TOODLES_COMMANDS_DIR, else the current one), never over a file already there.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, optionalDir } from '../config.js';
import { errorText } from '../util/error-text.js';
import { isWord } from './shape.js';
import { starterModule, starterTest } from './starter.js';

export const NEW_COMMAND_USAGE = `usage: toodles new-command NAME [--form]
  Writes NAME.mjs, a command module answering to NAME, and NAME.test.mjs, its test, into
  $TOODLES_COMMANDS_DIR, else the current directory. --form: a command with a form (a card).`;

/** Where install.sh makes the commands directory: root's, so a module is written elsewhere and installed. */
const INSTALLED_DIR = '/etc/toodles/commands.d';
const INSTALL = `install -m 0644 NAME.mjs ${INSTALLED_DIR}/`;

export function runNewCommand(
  argv: string[],
  out: (text: string) => void,
  err: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { form: { type: 'boolean', default: false } }, allowPositionals: true });
  } catch (e) {
    err(`toodles new-command: ${(e as Error).message}\n${NEW_COMMAND_USAGE}\n`);
    return 64;
  }
  const [keyword, ...extra] = parsed.positionals;
  if (!isWord(keyword) || extra.length) {
    err(`toodles new-command: NAME must be one lower-case word (a-z, 0-9, - and _, starting with a letter)\n${NEW_COMMAND_USAGE}\n`);
    return 64;
  }
  let configured;
  try {
    configured = optionalDir(env, 'TOODLES_COMMANDS_DIR');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`toodles new-command: ${e.message}\n`);
    return 78;
  }
  const dir = configured ?? cwd;
  const modulePath = join(dir, `${keyword}.mjs`);
  const testPath = join(dir, `${keyword}.test.mjs`);
  const files: Array<[string, string]> = [
    [modulePath, starterModule(keyword, parsed.values.form)],
    [testPath, starterTest(keyword, parsed.values.form)],
  ];
  const there = files.map(([path]) => path).filter((path) => existsSync(path));
  if (there.length) {
    err(`toodles new-command: ${there.join(' and ')} already there; nothing written\n`);
    return 1;
  }
  for (const [path, text] of files) {
    try {
      writeFileSync(path, text, { flag: 'wx', mode: 0o644 });
    } catch (e) {
      // Run by root, /usr/local/bin/toodles runs this as the service user, which may write neither here nor in the commands directory.
      const denied = (e as NodeJS.ErrnoException).code === 'EACCES';
      err(
        `toodles new-command: cannot write ${path}: ${denied ? `permission denied; write it in a directory of your own, then install it as root (${INSTALL})` : errorText(e)}\n`,
      );
      return 1;
    }
  }
  out(
    `Wrote ${files.map(([path]) => path).join(' and ')}.\n` +
      `Try it: node --test ${testPath}\n` +
      (configured
        ? 'Load it: systemctl reload toodles'
        : `Install it as root: install -m 0644 ${modulePath} ${INSTALLED_DIR}/ && systemctl reload toodles`) +
      `. It answers to "${keyword}"; "help ${keyword}" shows its help.\n`,
  );
  return 0;
}
