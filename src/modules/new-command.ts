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

/** Where install.sh makes the commands directory. */
const INSTALLED_DIR = '/etc/toodles/commands.d';

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
  const testPath = join(dir, `${keyword}.test.mjs`);
  const files: Array<[string, string]> = [
    [join(dir, `${keyword}.mjs`), starterModule(keyword, parsed.values.form)],
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
      const denied = (e as NodeJS.ErrnoException).code === 'EACCES';
      err(
        `toodles new-command: cannot write ${path}: ${denied ? "permission denied (the commands directory is root's: run as root)" : errorText(e)}\n`,
      );
      return 1;
    }
  }
  out(
    `Wrote ${files.map(([path]) => path).join(' and ')}.\n` +
      `Try it: node --test ${testPath}\n` +
      `${configured ? 'Load it' : `Put both in the commands directory (TOODLES_COMMANDS_DIR; installed: ${INSTALLED_DIR}), then load it`}: ` +
      `systemctl reload toodles. It answers to "${keyword}"; "help ${keyword}" shows its help.\n`,
  );
  return 0;
}
