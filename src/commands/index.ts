// The one list of built-in commands. A new one: a module here, one line below. Command modules
// (TOODLES_COMMANDS_DIR, src/modules/) join them in the registry.
import type { Command } from '../bot/command.js';
import { CommandRegistry } from '../bot/registry.js';
import type { CommandDeps } from './deps.js';
import { help } from './help.js';
import { ping } from './ping.js';
import { status } from './status.js';
import { testing } from './testing/index.js';

export type { CommandDeps, CommandSettings } from './deps.js';

/** The registry of the built-in commands and any given beside them (tests add some); `help` lists all it holds. */
export function commandRegistry(deps: CommandDeps, beside: readonly Command[] = []): CommandRegistry {
  return new CommandRegistry((listing) => [help(listing), ping(), status(deps), testing(deps), ...beside]);
}
