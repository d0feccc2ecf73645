// The one list of commands the bot answers to. A new command: a module here, one line below.
import type { Command } from '../bot/command.js';
import type { CommandDeps } from './deps.js';
import { help } from './help.js';
import { ping } from './ping.js';
import { status } from './status.js';
import { testing } from './testing/index.js';

export type { CommandDeps, CommandSettings } from './deps.js';

export function allCommands(deps: CommandDeps): Command[] {
  return [help(deps), ping(), status(deps), testing(deps)];
}
