import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { bounded } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import type { BotIdentity, IncomingActivity, IncomingMessage, WebexApi } from '../webex/types.js';
import type { Command, Reply } from './command.js';

export interface DispatcherDeps {
  api: WebexApi;
  commands: Command[];
  bot: () => BotIdentity | undefined;
  log: Logger;
  /** A handler still running after this long is abandoned and the user told so. */
  handlerTimeoutMs: number;
  /** Each command run, for stats and metrics. */
  onCommand?: (name: string, durationMs: number, ok: boolean) => void;
}

/** Turns one incoming activity into at most one command run and its replies. */
export class Dispatcher {
  private readonly byName: Map<string, Command>;

  constructor(private readonly deps: DispatcherDeps) {
    this.byName = new Map(deps.commands.map((c) => [c.name, c]));
  }

  commands(): Command[] {
    return [...this.byName.values()];
  }

  async handle(activity: IncomingActivity): Promise<void> {
    const bot = this.deps.bot();
    if (!bot || activity.actorId === bot.id) return; // never answer ourselves
    if (activity.kind === 'message') await this.onMessage(activity.id, bot);
    else await this.onCardSubmit(activity.id);
  }

  private async onMessage(id: string, bot: BotIdentity): Promise<void> {
    const started = Date.now();
    const message = await this.deps.api.getMessage(id);
    const fetchMs = Date.now() - started;
    if (message.personId === bot.id) return;
    const { name, args } = parseCommand(message.text, bot.displayName);
    const command = this.byName.get(name);
    const reply = (r: Reply) => this.reply(message, r);
    this.deps.log.info({ event: 'command.received', id, command: command ? name : undefined, room: message.roomType });
    if (!command) {
      const said = name ? `I don't know \`${name}\`.` : 'Hello!';
      await reply({ markdown: `${said} Say \`help\` to see what I can do.` });
      return;
    }
    await this.guarded(name, reply, (signal, tracked) => command.run({ message, args, fetchMs, signal, reply: tracked }));
  }

  private async onCardSubmit(id: string): Promise<void> {
    const action = await this.deps.api.getCardAction(id);
    const card = await this.deps.api.getMessage(action.messageId);
    const name = typeof action.inputs.command === 'string' ? action.inputs.command : '';
    const command = this.byName.get(name);
    const reply = (r: Reply) => this.reply(card, r);
    this.deps.log.info({ event: 'card.received', id, command: name || undefined });
    if (!command?.onCardSubmit) {
      await reply({ markdown: 'That card is not one I can act on any more. Say `help` to see what I can do.' });
      return;
    }
    const onSubmit = command.onCardSubmit.bind(command);
    await this.guarded(name, reply, (signal, tracked) => onSubmit({ action, signal, reply: tracked }));
  }

  /**
   * Runs a handler under its time limit; a throw or overrun gets a short answer with a reference to
   * the log, unless one of its own replies is still on its way (Webex being slow): a second message
   * would only make the user see the bot talk over itself.
   */
  private async guarded(
    name: string,
    reply: (r: Reply) => Promise<void>,
    run: (signal: AbortSignal, tracked: (r: Reply) => Promise<void>) => Promise<void>,
  ) {
    const started = Date.now();
    let sending = 0;
    const tracked = async (r: Reply) => {
      sending += 1;
      try {
        await reply(r);
      } finally {
        sending -= 1;
      }
    };
    try {
      await bounded(`command ${name}`, (signal) => run(signal, tracked), { timeoutMs: this.deps.handlerTimeoutMs });
      this.deps.log.info({ event: 'command.done', command: name, durationMs: Date.now() - started });
      this.deps.onCommand?.(name, Date.now() - started, true);
    } catch (err) {
      const ref = randomBytes(4).toString('hex');
      const replyInFlight = sending > 0;
      this.deps.log.error({ event: 'command.failed', command: name, ref, durationMs: Date.now() - started, replyInFlight, err: errorText(err) });
      this.deps.onCommand?.(name, Date.now() - started, false);
      if (!replyInFlight) await reply({ markdown: `Sorry, \`${name}\` failed. Reference: ${ref}` });
    }
  }

  private reply(to: IncomingMessage, r: Reply): Promise<void> {
    // Webex threads are one level deep: a reply to a reply goes to the thread's root.
    return this.send({ roomId: to.roomId, parentId: to.parentId ?? to.id }, r);
  }

  private async send(where: { roomId: string; parentId: string }, r: Reply): Promise<void> {
    await this.deps.api.send({
      ...where,
      markdown: r.markdown,
      attachments: r.card ? [{ contentType: 'application/vnd.microsoft.card.adaptive', content: r.card }] : undefined,
    });
  }
}

/** `ping`, `toodles ping`, `Toodles ping` (a group mention renders the display name first). */
export function parseCommand(text: string, displayName: string): { name: string; args: string } {
  let rest = text.trim();
  for (const prefix of new Set([displayName, displayName.split(/\s+/)[0] ?? '', 'toodles'])) {
    if (prefix && rest.toLowerCase().startsWith(prefix.toLowerCase())) {
      const after = rest.slice(prefix.length);
      if (after === '' || /^[\s,:]/.test(after)) {
        rest = after.replace(/^[\s,:]+/, '');
        break;
      }
    }
  }
  const [word = '', ...more] = rest.split(/\s+/);
  return { name: word.toLowerCase(), args: more.join(' ') };
}
