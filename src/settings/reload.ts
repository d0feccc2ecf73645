/**
 * `systemctl reload toodles` (and SIGHUP): toodles.env read again and the live settings replaced in
 * the running daemon, the Webex connection untouched. systemd reads EnvironmentFile= only at start, so
 * the daemon reads the file itself, as systemd would (env-file.ts), over the environment systemd gave
 * it less what the file said then; the command modules are loaded again too. A bad file or module
 * changes nothing (all or nothing) and fails the reload with the reason.
 */
import type { Logger } from 'pino';
import { isOpen } from '../bot/access.js';
import { isSetting, loadConfig, type Config } from '../config.js';
import { MODULE_SETTING_PREFIX } from '../modules/api.js';
import type { StagedModules } from '../modules/index.js';
import { errorText } from '../util/error-text.js';
import { EnvFileError, readEnvFile, type EnvFile } from './env-file.js';
import { LIVE_SETTINGS, type LiveSettings } from './live.js';
import { loadNamingEveryProblem } from './problems.js';

type Env = Record<string, string | undefined>;

export type ReloadTrigger = 'control' | 'SIGHUP';

export type ReloadOutcome =
  | {
      ok: true;
      /** Live settings that changed, by name, now in force. */
      changed: string[];
      /** Settings that differ from what the daemon started with and take a restart, by name. */
      restartNeeded: string[];
      /** Lines of the file systemd ignores too (see env-file.ts). */
      ignored: string[];
      /** The commands the modules now answer to (with a commands dir). */
      moduleCommands?: string[];
    }
  | { ok: false; error: string };

/** Read by other programs at each run (`toodles canary`, install.sh): neither live nor waiting for a restart. */
const NOT_THE_DAEMONS = new Set(['TOODLES_CANARY_TOKEN', 'TOODLES_CANARY_TIMEOUT_S', 'TOODLES_KEEP_RELEASES']);

export interface ReloaderDeps {
  /** The environment the daemon started with (systemd's: the unit's settings and the file as it was then). */
  env: Env;
  /** The settings file to read again (TOODLES_ENV_FILE); without one a reload finds nothing new. */
  envFile?: string;
  live: LiveSettings;
  log: Logger;
  /** systemd's reload protocol: RELOADING=1 before, READY=1 after, whatever the outcome. */
  announce: { reloading(): void; reloaded(): void };
  /** With a commands dir: its modules loaded again with these TOODLES_MODULE_* settings, installed only if all are good. */
  modules?: {
    dir: string;
    stage(settings: Config['modules']['settings']): Promise<StagedModules>;
    /** The start's own loading, which a reload waits for: it would put the start's modules back over the reload's. */
    loadedAtStart: Promise<unknown>;
  };
}

export class Reloader {
  /** The environment without the file's lines, which a reload puts back as the file says now. */
  private readonly base: Env;
  private current: Env;
  private queue: Promise<unknown>;

  constructor(private readonly d: ReloaderDeps) {
    this.base = withoutFile(d.env, d.envFile);
    this.current = d.env;
    this.queue = d.modules?.loadedAtStart.catch(() => undefined) ?? Promise.resolve();
  }

  /** One at a time: a reload asked for meanwhile runs after, reading the file afresh. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const next = this.queue.then(() => this.once(trigger));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async once(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const started = Date.now();
    this.d.announce.reloading();
    try {
      const outcome = await this.apply();
      const durationMs = Date.now() - started;
      if (!outcome.ok) {
        this.d.log.warn({ event: 'config.reload_failed', trigger, file: this.d.envFile, err: outcome.error, durationMs });
        return outcome;
      }
      this.d.log.info({
        event: 'config.reload',
        trigger,
        file: this.d.envFile,
        changed: outcome.changed,
        ignored: outcome.ignored,
        durationMs,
      });
      if (outcome.restartNeeded.length) this.d.log.warn({ event: 'config.restart_needed', settings: outcome.restartNeeded });
      return outcome;
    } finally {
      this.d.announce.reloaded();
    }
  }

  private async apply(): Promise<ReloadOutcome> {
    let next: { env: Env; config: Config; file?: EnvFile };
    try {
      next = this.load();
    } catch (err) {
      if (err instanceof SettingsError || err instanceof EnvFileError) return { ok: false, error: err.message };
      return { ok: false, error: `cannot read ${this.d.envFile} (${errorText(err)})` };
    }
    const modules = await this.d.modules?.stage(next.config.modules.settings);
    const bad = modules?.loaded.problems ?? [];
    if (bad.length)
      return { ok: false, error: `command modules in ${this.d.modules?.dir}: ${bad.map((p) => `${p.file}: ${p.why}`).join('; ')}` };

    const changed = changedSettings(this.current, next.env).filter(isLive);
    const restartNeeded = changedSettings(this.d.env, next.env).filter((n) => !isLive(n) && !NOT_THE_DAEMONS.has(n));
    this.d.live.replace(next.config);
    modules?.install();
    this.current = next.env;
    if (changed.some((n) => n.startsWith('TOODLES_ALLOWED_')) && isOpen(next.config.access)) {
      this.d.log.warn({ event: 'access.open', hint: 'the reload left no access rule' });
    }
    return {
      ok: true,
      changed,
      restartNeeded,
      ignored: next.file?.ignored.map((i) => `line ${i.line}: ${i.why}`) ?? [],
      ...(modules ? { moduleCommands: modules.loaded.commands.map((c) => c.keyword) } : {}),
    };
  }

  /** The settings as the next start would see them; throws what is wrong with them, every bad setting named. */
  private load(): { env: Env; config: Config; file?: EnvFile } {
    const file = this.d.envFile ? readSettingsFile(this.d.envFile) : undefined;
    const env = { ...this.base, ...file?.values };
    const config = loadNamingEveryProblem(env, loadConfig);
    if ('problems' in config) throw new SettingsError(config.problems.map((p) => p.message).join('; '));
    return { env, config: config.loaded, file };
  }
}

class SettingsError extends Error {}

/** A module's own settings reach it through the modules, loaded again at each reload. */
const isLive = (name: string) => LIVE_SETTINGS.includes(name) || name.startsWith(MODULE_SETTING_PREFIX);

/** The file as systemd reads it for EnvironmentFile=-...: a missing one is an empty one. */
function readSettingsFile(path: string): EnvFile | undefined {
  try {
    return readEnvFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function withoutFile(env: Env, envFile: string | undefined): Env {
  let atStart: EnvFile | undefined;
  try {
    atStart = envFile ? readSettingsFile(envFile) : undefined;
  } catch {
    // unreadable now: the reload says why; meanwhile nothing is known to have come from it
  }
  return Object.fromEntries(Object.entries(env).filter(([name]) => !atStart || !(name in atStart.values)));
}

/** Settings whose value differs, by name; unset and blank are the same (loadConfig reads both as unset). */
function changedSettings(before: Env, after: Env): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)].filter(isSetting));
  return [...names].filter((n) => (before[n]?.trim() ?? '') !== (after[n]?.trim() ?? '')).sort();
}
