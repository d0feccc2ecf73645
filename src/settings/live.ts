import type { Config, LogLevel } from '../config.js';

/** What a reload changes in the running daemon; every other setting takes a restart. */
export type LiveValues = Pick<Config, 'access' | 'commands' | 'logLevel' | 'canary'>;

/** The variables behind them: a changed one is applied at once, any other named as taking a restart. */
export const LIVE_SETTINGS: readonly string[] = [
  'TOODLES_ALLOWED_EMAILS',
  'TOODLES_ALLOWED_DOMAINS',
  'TOODLES_ALLOWED_ROOMS',
  'TOODLES_ADMIN_EMAILS',
  'TOODLES_TESTING_ROOM',
  'TOODLES_TESTING_ROOMS',
  'TOODLES_LOG_LEVEL',
  'TOODLES_CANARY_REBUILD_AFTER',
  'TOODLES_CANARY_RESTART_AFTER',
];

/**
 * The one object the daemon builds over the live values. Each part is handed a reader of its own
 * slice and reads it when it acts, so a reload reaches every part at once; the log level, which the
 * logger checks itself, is pushed to it.
 */
export class LiveSettings {
  private values: LiveValues;

  constructor(
    initial: LiveValues,
    private readonly setLogLevel: (level: LogLevel) => void,
  ) {
    this.values = pick(initial);
  }

  get access(): LiveValues['access'] {
    return this.values.access;
  }

  get commands(): LiveValues['commands'] {
    return this.values.commands;
  }

  get canary(): LiveValues['canary'] {
    return this.values.canary;
  }

  replace(next: LiveValues): void {
    const level = this.values.logLevel;
    this.values = pick(next);
    if (next.logLevel !== level) this.setLogLevel(next.logLevel);
  }
}

const pick = ({ access, commands, logLevel, canary }: LiveValues): LiveValues => ({ access, commands, logLevel, canary });
