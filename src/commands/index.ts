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

/**
 * The registry of the built-in commands and any given beside them (tests add some, or stand in for
 * one by its keyword: a broken `ping`); `help` lists all it holds.
 */
export function commandRegistry(deps: CommandDeps, beside: readonly Command[] = []): CommandRegistry {
  const given = new Set(beside.map((c) => c.keyword));
  const builtIns = [ping(), status(deps), testing(deps)].filter((c) => !given.has(c.keyword));
  return new CommandRegistry((listing) => [help(listing), ...builtIns, ...beside]);
}
