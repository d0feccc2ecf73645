import type { Command } from './command.js';

/** What `help` reads: the commands as they are when it is asked. */
export interface CommandListing {
  list(): readonly Command[];
  find(word: string): Command | undefined;
}

/**
 * The commands the bot answers to, by keyword and alias (any case): the built-ins, fixed when it is
 * made, and the command modules' beside them, replaced whole in one call (at start and at a reload).
 * The dispatcher and `help` look here for every message, so a replacement applies from the next one;
 * a run already going keeps the command it started with.
 */
export class CommandRegistry implements CommandListing {
  private readonly builtIns: readonly Command[];
  private modules: readonly Command[] = [];
  private byWord: ReadonlyMap<string, Command>;

  /** `builtIns` is handed this registry's listing, which `help` keeps to list whatever is here when asked. */
  constructor(builtIns: (listing: CommandListing) => readonly Command[]) {
    this.builtIns = builtIns(this);
    this.byWord = byWord(this.builtIns);
  }

  /** The words the built-ins answer to: a module may not claim one. */
  builtInWords(): ReadonlySet<string> {
    return new Set(this.builtIns.flatMap(words));
  }

  /** Puts these module commands in place of the previous ones; throws, changing nothing, when two claim one word. */
  replaceModules(modules: readonly Command[]): void {
    this.byWord = byWord([...this.builtIns, ...modules]);
    this.modules = modules;
  }

  list(): readonly Command[] {
    return [...this.builtIns, ...this.modules];
  }

  find(word: string): Command | undefined {
    return this.byWord.get(word.toLowerCase());
  }
}

const words = (c: Command): string[] => [c.keyword, ...(c.aliases ?? [])].map((w) => w.toLowerCase());

function byWord(commands: readonly Command[]): Map<string, Command> {
  const map = new Map<string, Command>();
  for (const c of commands) {
    for (const word of words(c)) {
      const holder = map.get(word);
      if (holder) throw new Error(`\`${word}\` is claimed by both ${holder.keyword} and ${c.keyword}`);
      map.set(word, c);
    }
  }
  return map;
}
