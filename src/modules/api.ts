/**
 * The command module API: what a module in TOODLES_COMMANDS_DIR exports and what its handlers are
 * given. Published as `toodles/command-api` (types for editors and TypeScript; a module needs
 * nothing from it at run time). This file stands alone, so its declarations are the whole contract.
 *
 * A module is an ES module (`.mjs`, or `.js`) that exports
 *
 *     export const apiVersion = 1;
 *     export default { keyword: 'hello', description: 'says hello', async run(ctx) { ... } };
 *
 * or a list of commands as the default export. toodles checks `apiVersion` and the shape at load;
 * a module that fails either is skipped, with one error naming the file and why.
 *
 * Versioning: a change that could break a module (a field renamed, removed or made required, a
 * different meaning) bumps API_VERSION, and toodles then refuses modules written for the old one,
 * naming both versions. Additions a module may ignore keep the version.
 */

/** The API version this toodles speaks; a module declares the one it was written for (`export const apiVersion = 1`). */
export const API_VERSION = 1;

/** The settings a module may read (`ctx.setting`) start with this; the others (tokens, URLs with passwords) stay toodles' own. */
export const MODULE_SETTING_PREFIX = 'TOODLES_MODULE_';

/** How a run ended, for the audit trail (`toodles activity`); nothing (or 'ok') for a plain answer. */
export type Outcome = 'ok' | 'invalid' | 'denied';

/** An Adaptive Card (https://adaptivecards.io, version 1.3 is what Webex shows). */
export type Card = Record<string, unknown>;

/** An answer: markdown (long text is split into several messages), and a card shown beside it. */
export interface Reply {
  markdown: string;
  card?: Card;
}

/** Who sent the message or pressed the card's button. */
export interface Sender {
  id: string;
  email: string;
  displayName: string;
  isBot: boolean;
}

export interface Room {
  id: string;
  type: 'direct' | 'group';
}

/** Anything JSON can hold: what the store keeps. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * This command's own key/value store, kept in toodles' database (SQLite in its state directory, or
 * the PostgreSQL that instances share): no other command sees its keys. Keys are non-empty strings
 * of at most 200 characters; a value is at most 64 KiB as JSON. A call rejects when the database
 * cannot be reached: the user is then told to try again in a minute.
 */
export interface KeyValueStore {
  get(key: string): Promise<JsonValue | undefined>;
  set(key: string, value: JsonValue): Promise<void>;
  /** Resolves true when there was a value to delete. */
  delete(key: string): Promise<boolean>;
  /** The entries whose keys start with `prefix` (all, without one), in key order. */
  list(prefix?: string): Promise<Array<{ key: string; value: JsonValue }>>;
}

/** The daemon's log (the journal under systemd): each line names the command. Never log a secret. */
export interface ModuleLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Text people typed (a form's field, a display name, a word of theirs) made inert for what the bot
 * sends: shown as typed, with no mention (`<@all>`), link or markup of its own.
 */
export interface Escape {
  /** For a reply's markdown: one line of plain text. */
  markdownText(text: string): string;
  /** For a reply's markdown: inline code (plain text when it cannot be). */
  inlineCode(text: string): string;
  /** For a card's TextBlock or fact. */
  cardText(text: string): string;
}

/** The message or card being handled, and how to answer it. */
export interface Conversation {
  sender: Sender;
  room: Room;
  /** The thread replies go to. */
  threadId: string;
  /** Aborted when the run has taken too long (30 s): stop what you started. */
  signal: AbortSignal;
  /** Answers in the thread of the message (or card) being handled. */
  reply(reply: Reply): Promise<void>;
  /** A message in another space (the bot must be a member), e.g. an announcement. */
  post(roomId: string, reply: Reply): Promise<void>;
}

/** A module's own tools. */
export interface Tools {
  store: KeyValueStore;
  log: ModuleLog;
  /**
   * A setting from toodles' environment (/etc/toodles/toodles.env). Only names that start with
   * TOODLES_MODULE_ may be read, e.g. `ctx.setting('TOODLES_MODULE_ONCALL_ROSTER')`.
   */
  setting(name: string): string | undefined;
  escape: Escape;
}

/** What every handler of a module gets. */
export interface BaseContext extends Conversation, Tools {}

export interface CommandContext extends BaseContext {
  /** The text after the command word, line breaks kept. */
  args: string;
}

export interface CardContext extends BaseContext {
  /** The card's inputs merged with its button's data (hidden values ride along), as strings. */
  inputs: Record<string, string>;
}

/** What a form's submit decided. */
export type SubmitResult =
  /** Recorded: the form is deleted, the reply says who submitted it as what, and a second submit is answered "already recorded as ...". */
  | { recordedAs: string; reply: Reply }
  /** Refused with this reason; the form stays so it can be corrected. */
  | { invalid: string };

/**
 * A form (an Adaptive Card with inputs). Its submit button's data must be `{ callback: '<keyword>' }`:
 * that routes the submit back to this command. `help` shows a button that sends the form.
 */
export interface Form {
  /** The input ids `submit` reads; anything else in a submit is ignored. */
  fields: readonly string[];
  /** Missing or blank ones are named in the answer, and `submit` does not run. */
  required: readonly string[];
  /** Built for each send. */
  card(): Card;
  submit(ctx: CardContext): Promise<SubmitResult>;
}

export interface ModuleCommand {
  /** The word that runs it: lower-case letters, digits, `-` or `_`, starting with a letter; not one taken by another command. */
  keyword: string;
  /** Other words that run it, under the same rule. */
  aliases?: readonly string[];
  /** One line, shown by `help`. */
  description: string;
  /** What `help <keyword>` shows beyond the description: usage, examples (markdown). */
  help?: string;
  /** Only the people in TOODLES_ADMIN_EMAILS may use it; anyone else is refused (and it is recorded). */
  adminOnly?: boolean;
  /** Answers a message; a throw or a run over 30 s answers "Sorry, ... Reference: ..." by itself. */
  run(ctx: CommandContext): Promise<Outcome | void>;
  form?: Form;
  /**
   * Other buttons on this command's cards, by action name: a button whose data is
   * `{ callback: '<keyword>.<action>', ...hidden values }` runs the handler of that name.
   */
  actions?: Readonly<Record<string, (ctx: CardContext) => Promise<Outcome | void>>>;
}

/** What a module file exports. */
export interface CommandModule {
  apiVersion: typeof API_VERSION;
  default: ModuleCommand | readonly ModuleCommand[];
}
