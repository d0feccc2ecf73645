// The contract of a command. The shapes a command module sees too (a reply, who sent it, where, the
// conversation, what a form's submit decided) are the published API's (src/modules/api.ts), so the two cannot drift.
import type { Card, Conversation, Reply, Room, Sender, SubmitResult } from '../modules/api.js';
import type { Outcome } from '../storage/index.js';

export type { Card, Reply, Room, Sender, SubmitResult };

/** What every handler gets (a reply lands in the thread of what it answers: the dispatcher picks the parent). */
type Context = Conversation;

export interface CommandContext extends Context {
  /** The text after the command word, line breaks kept. */
  args: string;
  /** Round trip of fetching this message from Webex, in ms. */
  fetchMs: number;
}

export interface CardContext extends Context {
  /** The card's inputs merged with its submit data (hidden values ride along), as strings. */
  inputs: Record<string, string>;
}

export interface Form {
  /** The input ids the submit handler reads; anything else in a submit is ignored. */
  fields: readonly string[];
  /** Missing or blank ones are named in the answer and the handler does not run. */
  required: readonly string[];
  /** Built for every send, so defaults ("now") are fresh. Its submit button carries submitData(keyword). */
  card(): Card;
  submit(ctx: CardContext): Promise<SubmitResult>;
}

export interface Command {
  keyword: string;
  aliases?: readonly string[];
  /** One line, shown by `help`. */
  description: string;
  /** What `help <keyword>` answers beyond the description: usage, examples (markdown). */
  help?: string;
  /** Only the people in TOODLES_ADMIN_EMAILS may run it (or use its cards); anyone else is refused. */
  adminOnly?: boolean;
  /** When set, the command works only in these spaces (room ids). */
  rooms?: readonly string[];
  /** Resolves with the outcome for the audit trail when it is not plain 'ok' (a refused `remove`). */
  run(ctx: CommandContext): Promise<Outcome | void>;
  /** A form (adaptive card) this command sends; `help` shows a button that opens it. */
  form?: Form;
  /** Other buttons on this command's cards, by action name; pressing them again is fine. */
  actions?: Readonly<Record<string, (ctx: CardContext) => Promise<Outcome | void>>>;
}

/**
 * The submit data of a button on a command's card: `callback` routes the submit back
 * (`testing` for the form, `status.refresh` for an action); hidden values ride along.
 */
export function submitData(keyword: string, action?: string, hidden: Record<string, string> = {}): Record<string, string> {
  return { ...hidden, callback: action ? `${keyword}.${action}` : keyword };
}

/** The action name of the button that opens a command's form (help's buttons). */
export const OPEN_FORM = 'open';
