import type { AdaptiveCardAttachment, CardAction, IncomingMessage } from '../webex/types.js';

/** A reply always lands in the thread of what it answers; the dispatcher picks the parent. */
export interface Reply {
  markdown: string;
  card?: AdaptiveCardAttachment['content'];
}

export interface CommandContext {
  message: IncomingMessage;
  /** The text after the command word. */
  args: string;
  /** Round trip of fetching this message from Webex, in ms. */
  fetchMs: number;
  signal: AbortSignal;
  reply(reply: Reply): Promise<void>;
}

export interface CardContext {
  action: CardAction;
  signal: AbortSignal;
  reply(reply: Reply): Promise<void>;
}

export interface Command {
  name: string;
  /** One line, shown by `help`. */
  description: string;
  run(ctx: CommandContext): Promise<void>;
  /** Handles submits of cards this command sent (cards carry `command` in their submit data). */
  onCardSubmit?(ctx: CardContext): Promise<void>;
}
