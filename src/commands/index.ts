// The one list of commands the bot answers to. A new command: a module here, one line below.
import type { Command } from '../bot/command.js';
import type { CommandDeps } from './deps.js';
import { help } from './help.js';
import { ping } from './ping.js';
import { status } from './status.js';
import { testing } from './testing/index.js';

export type { CommandDeps, CommandSettings } from './deps.js';

/** The built-in commands and any given beside them (tests add some); `help` lists them all. */
export function allCommands(deps: CommandDeps, beside: readonly Command[] = []): Command[] {
  const others = [ping(), status(deps), testing(deps), ...beside];
  return [help(others), ...others];
}
