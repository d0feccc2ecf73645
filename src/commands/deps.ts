import type { Logger } from 'pino';
import type { SupervisorStatus } from '../connection/supervisor.js';
import type { Storage } from '../storage/index.js';

/** Command settings from the configuration (see src/config.ts). */
export interface CommandSettings {
  /** May end any testing entry, not only their own. */
  adminEmails: readonly string[];
  /** Where new testing entries are announced. */
  testingRoom?: string;
  /** When set, `testing` works only in these spaces. */
  testingRooms?: readonly string[];
}

/** What a command module may use; each takes only what it needs. */
export interface CommandDeps {
  version: string;
  startedAt: number;
  now(): number;
  connection(): SupervisorStatus;
  storage: Storage;
  /** Read when used: a reload may change them. */
  settings(): CommandSettings;
  log: Logger;
}
