/**
 * `toodles config check [FILE]`: would the daemon take this settings file and its command modules, as
 * `nginx -t` says of its own? The file read as systemd reads it, every bad setting and module named
 * on a line of its own (exit 78), or "ok" with a short summary (exit 0). install.sh runs it before
 * switching releases. The token is no setting of the file: only its presence there is an error; the
 * database URL is checked when the credential beside FILE (install.sh's layout) can be read. The
 * commands dir is the file's TOODLES_COMMANDS_DIR, else the one in this environment.
 */
import { dirname, join } from 'node:path';
import pino from 'pino';
import { isOpen } from '../bot/access.js';
import { commandRegistry } from '../commands/index.js';
import { EXIT_CONFIG, loadSettings, type Config } from '../config.js';
import { stageModules, type LoadedModules } from '../modules/index.js';
import { openStorage } from '../storage/index.js';
import { errorText } from '../util/error-text.js';
import { packageVersion } from '../version.js';
import { EnvFileError, readEnvFile, type EnvFile } from './env-file.js';
import { loadNamingEveryProblem } from './problems.js';

export const DEFAULT_ENV_FILE = '/etc/toodles/toodles.env';

/** Secrets that have files of their own: in the settings file they are a mistake (the daemon or install.sh refuses them). */
const NOT_IN_THE_FILE: Record<string, string> = {
  WEBEX_BOT_TOKEN: 'the token belongs only in /etc/toodles/webex-bot-token (install.sh --token-file FILE)',
  TOODLES_DATABASE_URL: 'the database URL belongs only in /etc/toodles/database-url (install.sh --database-url-file FILE)',
};

type Settings = Omit<Config, 'token'>;

interface Note {
  line?: number;
  text: string;
  /** A bad setting or module; otherwise a line systemd ignores. */
  bad: boolean;
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export async function runConfig(args: string[]): Promise<number> {
  const [sub, file = DEFAULT_ENV_FILE, ...extra] = args;
  if (sub !== 'check' || extra.length || file.startsWith('-')) {
    err('usage: toodles config check [FILE]   (default /etc/toodles/toodles.env)');
    return 64;
  }
  const say = (line: number | undefined, text: string) => `toodles config check: ${file}${line ? `:${line}` : ''}: ${text}`;
  let parsed: EnvFile;
  try {
    parsed = readEnvFile(file);
  } catch (e) {
    if (e instanceof EnvFileError) err(say(e.line, e.message.replace(/^line \d+: /, '')));
    else err(say(undefined, `cannot read it (${readProblem(e)})`));
    return EXIT_CONFIG;
  }
  const { notes, settings } = checkedSettings(parsed, dirname(file));
  const modules = settings?.modules.dir ? await checkedModules(settings, settings.modules.dir) : undefined;
  const dirLine = parsed.lineOf.TOODLES_COMMANDS_DIR;
  for (const p of modules?.problems ?? [])
    notes.push({ line: dirLine, text: `TOODLES_COMMANDS_DIR: ${join(settings?.modules.dir ?? '', p.file)}: ${p.why}`, bad: true });

  for (const n of notes) err(say(n.line, n.bad ? n.text : `warning: ${n.text}`));
  const bad = notes.filter((n) => n.bad).length;
  if (bad || !settings) {
    err(say(undefined, `${bad} problem${bad === 1 ? '' : 's'}: fix ${bad === 1 ? 'it' : 'them'} before a restart or a reload`));
    return EXIT_CONFIG;
  }
  out(say(undefined, `ok: ${summary(parsed, settings, modules)}`));
  return 0;
}

/** What is wrong with the file's settings, in the file's order; the settings when nothing is. */
function checkedSettings(file: EnvFile, credentialsDir: string): { notes: Note[]; settings?: Settings } {
  const notes: Note[] = file.ignored.map(({ line, why }) => ({ line, text: `ignored: ${why}`, bad: false }));
  // The unit's credentials sit beside the file (install.sh's layout): the database URL is checked when this user may read it.
  const env: Record<string, string | undefined> = {
    CREDENTIALS_DIRECTORY: credentialsDir,
    TOODLES_COMMANDS_DIR: process.env.TOODLES_COMMANDS_DIR,
    ...file.values,
  };
  for (const [name, why] of Object.entries(NOT_IN_THE_FILE)) {
    if (!env[name]?.trim()) continue;
    notes.push({ line: file.lineOf[name], text: `${name}: set here; ${why}`, bad: true });
    delete env[name];
  }
  const settings = loadNamingEveryProblem(env, loadSettings);
  if ('problems' in settings) notes.push(...settings.problems.map((p) => ({ line: file.lineOf[p.setting], text: p.message, bad: true })));
  notes.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  return { notes, settings: 'loaded' in settings ? settings.loaded : undefined };
}

/** The modules loaded as the daemon loads them (their own top-level code runs), beside built-ins made only for the words they take. */
async function checkedModules(settings: Settings, dir: string): Promise<LoadedModules> {
  const log = pino({ level: 'silent' });
  const storage = await openStorage({ log });
  try {
    const registry = commandRegistry({
      version: packageVersion(),
      startedAt: Date.now(),
      now: Date.now,
      connection: () => ({ state: 'starting', since: Date.now(), reconnects: 0 }),
      storage,
      settings: () => settings.commands,
      log,
    });
    return (await stageModules(registry, dir, { storage, log, settings: settings.modules.settings })).loaded;
  } finally {
    await storage.close();
  }
}

function summary(file: EnvFile, s: Settings, modules: LoadedModules | undefined): string {
  const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const { emails, domains, rooms } = s.access;
  const access = isOpen(s.access)
    ? 'everyone may use the bot (no access rule)'
    : `access for ${count(emails.length, 'address', 'addresses')}, ${count(domains.length, 'domain')}, ${count(rooms.length, 'space')}`;
  const commands = modules ? [`commands from modules: ${modules.commands.map((c) => c.keyword).join(', ') || 'none'}`] : [];
  return [count(Object.keys(file.values).length, 'setting'), access, `log level ${s.logLevel}`, ...commands].join('; ');
}

function readProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied: run as root or a member of group toodles';
  return errorText(e);
}
