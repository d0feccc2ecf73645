/**
 * `toodles config check [FILE]`: would the daemon take this settings file, as `nginx -t` says of its
 * own? Read as systemd reads it, every bad setting named on a line of its own (exit 78), or "ok" with
 * a short summary (exit 0). install.sh runs it before switching releases. The token is no setting of
 * the file: only its presence there is an error; the database URL is checked when the credential
 * beside FILE (install.sh's layout) can be read.
 */
import { dirname } from 'node:path';
import { isOpen } from '../bot/access.js';
import { EXIT_CONFIG, loadSettings, type Config } from '../config.js';
import { errorText } from '../util/error-text.js';
import { EnvFileError, readEnvFile, type EnvFile } from './env-file.js';
import { loadNamingEveryProblem } from './problems.js';

export const DEFAULT_ENV_FILE = '/etc/toodles/toodles.env';

/** Secrets that have files of their own: in the settings file they are a mistake (the daemon or install.sh refuses them). */
const NOT_IN_THE_FILE: Record<string, string> = {
  WEBEX_BOT_TOKEN: 'the token belongs only in /etc/toodles/webex-bot-token (install.sh --token-file FILE)',
  TOODLES_DATABASE_URL: 'the database URL belongs only in /etc/toodles/database-url (install.sh --database-url-file FILE)',
};

export interface CheckOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

const STDIO: CheckOutput = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

export function runConfig(args: string[], io: CheckOutput = STDIO): number {
  const [sub, file = DEFAULT_ENV_FILE, ...extra] = args;
  if (sub !== 'check' || extra.length || file.startsWith('-')) {
    io.err('usage: toodles config check [FILE]   (default /etc/toodles/toodles.env)');
    return 64;
  }
  const say = (line: number | undefined, text: string) => `toodles config check: ${file}${line ? `:${line}` : ''}: ${text}`;
  let parsed: EnvFile;
  try {
    parsed = readEnvFile(file);
  } catch (err) {
    if (err instanceof EnvFileError) io.err(say(err.line, err.message.replace(/^line \d+: /, '')));
    else io.err(say(undefined, `cannot read it (${readProblem(err)})`));
    return EXIT_CONFIG;
  }
  const { notes, settings } = checked(parsed, dirname(file));
  for (const n of notes) io.err(say(n.line, n.bad ? n.text : `warning: ${n.text}`));
  const bad = notes.filter((n) => n.bad).length;
  if (!settings) {
    io.err(say(undefined, `${bad} bad setting${bad === 1 ? '' : 's'}: the daemon would not start with this file`));
    return EXIT_CONFIG;
  }
  io.out(say(undefined, `ok: ${summary(parsed, settings)}`));
  return 0;
}

interface Note {
  line?: number;
  text: string;
  /** A bad setting; otherwise a line systemd ignores. */
  bad: boolean;
}

/** What is wrong with the file, in the file's order; the settings when nothing is. */
function checked(file: EnvFile, credentialsDir: string): { notes: Note[]; settings?: Omit<Config, 'token'> } {
  const notes: Note[] = file.ignored.map(({ line, why }) => ({ line, text: `ignored: ${why}`, bad: false }));
  // The unit's credentials sit beside the file (install.sh's layout): the database URL is checked when this user may read it.
  const env: Record<string, string | undefined> = { CREDENTIALS_DIRECTORY: credentialsDir, ...file.values };
  for (const [name, why] of Object.entries(NOT_IN_THE_FILE)) {
    if (!env[name]?.trim()) continue;
    notes.push({ line: file.lineOf[name], text: `${name}: set here; ${why}`, bad: true });
    delete env[name];
  }
  const settings = loadNamingEveryProblem(env, loadSettings);
  if ('problems' in settings) notes.push(...settings.problems.map((p) => ({ line: file.lineOf[p.setting], text: p.message, bad: true })));
  notes.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  return { notes, settings: 'loaded' in settings && !notes.some((n) => n.bad) ? settings.loaded : undefined };
}

function summary(file: EnvFile, s: Omit<Config, 'token'>): string {
  const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const { emails, domains, rooms } = s.access;
  const access = isOpen(s.access)
    ? 'everyone may use the bot (no access rule)'
    : `access for ${count(emails.length, 'address', 'addresses')}, ${count(domains.length, 'domain')}, ${count(rooms.length, 'space')}`;
  return [count(Object.keys(file.values).length, 'setting'), access, `log level ${s.logLevel}`].join('; ');
}

function readProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied: run as root or a member of group toodles';
  return errorText(err);
}
