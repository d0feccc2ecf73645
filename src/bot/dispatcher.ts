import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Outcome, Storage, Submission } from '../storage/index.js';
import { StorageUnavailableError } from '../storage/index.js';
import { bounded } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import { NotFoundError, type BotIdentity, type CardAction, type IncomingActivity, type WebexApi } from '../webex/types.js';
import { decideAccess, type AccessDecision, type AccessSettings } from './access.js';
import { inlineCode } from './escape.js';
import { OPEN_FORM, type CardContext, type Command, type Reply, type Room, type Sender } from './command.js';
import type { CommandListing } from './registry.js';
import { Forms, formReply, placeOf, type CardPlace } from './forms.js';
import { LATE_AFTER_MS, lateLine, tooOldText, type Offline } from './late.js';
import { parseCallback, parseCommand } from './parse.js';
import { People } from './people.js';
import { splitReply } from './split-reply.js';

export interface DispatcherDeps {
  api: WebexApi;
  /** Looked up for every message and card, so a replaced set (command modules at a reload) applies from the next one. */
  commands: CommandListing;
  bot: () => BotIdentity | undefined;
  log: Logger;
  /** A handler still running after this long is abandoned and the user told so. */
  handlerTimeoutMs: number;
  /** Read for each run: a reload may change them. */
  access: () => AccessSettings;
  /** Who may run an adminOnly command (lower case); read for each run. */
  adminEmails: () => readonly string[];
  storage: Storage;
  /** Each command run, for stats and metrics. */
  onCommand?: (name: string, durationMs: number, ok: boolean) => void;
  /** A message sent in a gap (offlineAt) longer ago than this is not run: its sender is asked to send it again. None: every message runs. */
  maxAgeMs?: number;
  /** The gap the bot could not hear in, around when a message was sent (what a late answer says). */
  offlineAt?: (sentAt: number) => Offline | undefined;
}

/** One command run or card submit on its way through the dispatcher; a form submit may move its place (Forms.submit). */
interface Run {
  kind: 'message' | 'card';
  command: string;
  sender: Sender;
  room: Room;
  /** Undefined only for a card whose message is gone: replies then go to the space itself. */
  threadId?: string;
  started: number;
  ref: string;
  /** Added to the first reply: the message is answered late. */
  lateNote?: string;
}

const REFUSAL = "Sorry, I can't help you with that.";

/** Turns one incoming activity into at most one command run and its replies, and records it. */
export class Dispatcher {
  private readonly people: People;
  private readonly forms: Forms;

  constructor(private readonly deps: DispatcherDeps) {
    this.people = new People(deps.api, deps.log);
    this.forms = new Forms({ api: deps.api, storage: deps.storage, log: deps.log, handlerTimeoutMs: deps.handlerTimeoutMs });
  }

  async handle(activity: IncomingActivity): Promise<void> {
    const bot = this.deps.bot();
    if (!bot || activity.actorId === bot.id) return; // never answer ourselves
    if (activity.kind === 'message') await this.onMessage(activity.id, bot);
    else await this.onCardAction(activity.id);
  }

  private async onMessage(id: string, bot: BotIdentity): Promise<void> {
    const started = Date.now();
    const message = await this.deps.api.getMessage(id);
    const fetchMs = Date.now() - started;
    if (message.personId === bot.id) return;
    if (!message.text.trim() && message.hasFiles) {
      this.deps.log.info({ event: 'command.skipped', id, reason: 'a file without text' });
      return;
    }
    const { name, args } = parseCommand(message.text, bot.displayName);
    const command = this.deps.commands.find(name);
    const sender = await this.people.sender(message.personId, message.personEmail);
    const room: Room = { id: message.roomId, type: message.roomType };
    const run = this.newRun(
      'message',
      command?.keyword ?? shorten(name || '(none)'),
      sender,
      room,
      message.parentId ?? message.id,
      started,
    );
    const lateMs = started - message.created;
    const late = lateMs > LATE_AFTER_MS;
    this.deps.log.info({
      event: 'command.received',
      id,
      command: command?.keyword,
      room: room.type,
      ref: run.ref,
      ...(late ? { lateMs } : {}),
    });
    if (!(await this.admitted(run, command))) return;
    const offline = late ? this.deps.offlineAt?.(message.created) : undefined;
    // Only what was sent while the bot could not hear: a clock off by an hour must not stop it answering live messages.
    if (offline && this.deps.maxAgeMs !== undefined && lateMs > this.deps.maxAgeMs) {
      await this.reply(run, { markdown: tooOldText(message.created, started) });
      this.finish(run, 'too_old');
      this.logDone(run, 'too_old');
      return;
    }
    if (late) run.lateNote = lateLine(message.created, started, offline);
    if (!command) {
      const said = name ? `I don't know ${inlineCode(shorten(name))}.` : 'Hello!';
      await this.reply(run, { markdown: `${said} Say \`help\` to see what I can do.` });
      this.finish(run, 'invalid');
      return;
    }
    await this.guarded(run, async (ctx) => (await command.run({ ...ctx, args, fetchMs })) ?? 'ok');
  }

  private async onCardAction(id: string): Promise<void> {
    const started = Date.now();
    const action = await this.deps.api.getCardAction(id);
    await this.forms.oneAtATime(action.messageId, () => this.onCardActionOf(id, action, started));
  }

  private async onCardActionOf(id: string, action: CardAction, started: number): Promise<void> {
    const { keyword, actionName } = parseCallback(action.inputs);
    const command = this.deps.commands.find(keyword);
    // Checked on the person who clicked, not on whoever the card was sent to.
    const sender = await this.people.sender(action.personId);
    const earlier = command?.form && actionName === undefined ? await this.forms.earlierSubmission(action.messageId) : undefined;
    const place = earlier ? placeOf(earlier) : await this.cardPlace(action);
    const run = this.newRun('card', command?.keyword ?? shorten(keyword || '(none)'), sender, place.room, place.threadId, started);
    this.deps.log.info({ event: 'card.received', id, command: command?.keyword, action: actionName, ref: run.ref });
    if (!(await this.admitted(run, command))) return;
    const handler = command && this.cardHandler(command, actionName, run, action, earlier);
    if (!handler) {
      await this.reply(run, { markdown: 'That card is not one I can act on any more. Say `help` to see what I can do.' });
      this.finish(run, 'invalid');
      return;
    }
    await this.guarded(run, async (ctx) => (await handler({ ...ctx, inputs: stringInputs(action.inputs) })) ?? 'ok');
  }

  /** The form's submit (no action name), the form itself (`open`), or one of the command's other buttons. */
  private cardHandler(command: Command, actionName: string | undefined, run: Run, action: CardAction, earlier: Submission | undefined) {
    const { form, actions } = command;
    if (form && actionName === undefined) return (ctx: CardContext) => this.forms.submit(ctx, run, { command, form, action, earlier });
    if (form && actionName === OPEN_FORM) return (ctx: CardContext) => ctx.reply(formReply(command, form));
    return actions && actionName && Object.hasOwn(actions, actionName) ? actions[actionName] : undefined;
  }

  /** Access rules, then the command's own room limit and admin flag; a refusal is answered (bots are ignored) and recorded. */
  private async admitted(run: Run, command: Command | undefined): Promise<boolean> {
    const decision = decideAccess(this.deps.access(), run.sender, run.room);
    const refusal = this.refusal(decision, run, command);
    if (!refusal) return true;
    this.deps.log.warn({
      event: 'access.denied',
      person: run.sender.email,
      room: run.room.id,
      roomType: run.room.type,
      command: run.command,
      kind: run.kind,
      reason: refusal.reason,
      ref: run.ref,
    });
    if (decision !== 'ignored') await this.reply(run, { markdown: refusal.answer });
    this.finish(run, 'denied');
    return false;
  }

  private refusal(decision: AccessDecision, run: Run, command: Command | undefined): { reason: string; answer: string } | undefined {
    if (decision !== 'allowed') return { reason: decision === 'ignored' ? 'another bot' : 'not allowed', answer: REFUSAL };
    if (command?.rooms && !command.rooms.includes(run.room.id)) {
      return { reason: 'command limited to other spaces', answer: `\`${command.keyword}\` is not available in this space.` };
    }
    if (command?.adminOnly && !this.deps.adminEmails().includes(run.sender.email.toLowerCase())) {
      return { reason: 'admins only', answer: `\`${command.keyword}\` is for admins only.` };
    }
    return undefined;
  }

  /**
   * Runs a handler under its time limit; a throw or overrun gets a short answer with a reference to
   * the log, unless one of its own replies is still on its way (Webex being slow): a second message
   * would only make the user see the bot talk over itself.
   */
  private async guarded(run: Run, handler: (ctx: Ctx) => Promise<Outcome>): Promise<void> {
    let sending = 0;
    const tracked = async (send: () => Promise<void>) => {
      sending += 1;
      try {
        await send();
      } finally {
        sending -= 1;
      }
    };
    let outcome: Outcome;
    try {
      outcome = await bounded(
        `command ${run.command}`,
        (signal) =>
          handler({
            sender: run.sender,
            room: run.room,
            threadId: run.threadId ?? '',
            signal,
            reply: (r) => tracked(() => this.reply(run, r)),
            post: (roomId, r) => tracked(() => this.send(roomId, undefined, r)),
          }),
        { timeoutMs: this.deps.handlerTimeoutMs },
      );
    } catch (err) {
      const replyInFlight = sending > 0;
      this.deps.log.error({
        event: 'command.failed',
        command: run.command,
        ref: run.ref,
        durationMs: Date.now() - run.started,
        replyInFlight,
        err: errorText(err),
      });
      if (!replyInFlight) await this.reply(run, { markdown: failureText(run, err) });
      this.finish(run, 'failed');
      return;
    }
    this.finish(run, outcome);
    this.logDone(run, outcome);
  }

  private logDone(run: Run, outcome: Outcome): void {
    this.deps.log.info({
      event: 'command.done',
      command: run.command,
      person: run.sender.email,
      kind: run.kind,
      outcome,
      durationMs: Date.now() - run.started,
      ref: run.ref,
    });
  }

  /** The one place a command run ends: recorded in the audit trail (never failing the run) and the stats. */
  private finish(run: Run, outcome: Outcome): void {
    const durationMs = Date.now() - run.started;
    // Only registered keywords reach the stats: their labels must stay a small, fixed set.
    const ran = outcome !== 'denied' && outcome !== 'too_old';
    if (ran && this.deps.commands.find(run.command)) this.deps.onCommand?.(run.command, durationMs, outcome !== 'failed');
    this.deps.storage.recordActivity({
      at: run.started,
      personEmail: run.sender.email,
      roomId: run.room.id,
      command: run.command,
      kind: run.kind,
      outcome,
      durationMs,
      ref: run.ref,
    });
  }

  private newRun(kind: Run['kind'], command: string, sender: Sender, room: Room, threadId: string | undefined, started: number): Run {
    return { kind, command, sender, room, threadId, started, ref: randomBytes(4).toString('hex') };
  }

  /** Where a card lives: its space and thread. A card that is gone leaves only the space (judged as a group space). */
  private async cardPlace(action: CardAction): Promise<CardPlace> {
    try {
      const card = await this.deps.api.getMessage(action.messageId);
      return { room: { id: card.roomId, type: card.roomType }, threadId: card.parentId ?? card.id };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      return { room: { id: action.roomId, type: 'group' } };
    }
  }

  private reply(run: Run, r: Reply): Promise<void> {
    const note = run.lateNote;
    run.lateNote = undefined; // one line per answer, however many replies it takes
    return this.send(run.room.id, run.threadId, note ? { ...r, markdown: `${r.markdown}\n\n_${note}_` } : r);
  }

  /** Long markdown goes out in several messages (the card with the first); Webex would refuse it whole. */
  private async send(roomId: string, parentId: string | undefined, r: Reply): Promise<void> {
    for (const [i, markdown] of splitReply(r.markdown).entries()) {
      const card = i === 0 ? r.card : undefined;
      await this.deps.api.send({
        roomId,
        ...(parentId ? { parentId } : {}),
        markdown,
        attachments: card ? [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] : undefined,
      });
    }
  }
}

type Ctx = Omit<CardContext, 'inputs'>;

function stringInputs(inputs: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function failureText(run: Run, err: unknown): string {
  if (err instanceof StorageUnavailableError) {
    return `Sorry, \`${run.command}\` cannot reach its records right now; try again in a minute. Reference: ${run.ref}`;
  }
  return `Sorry, \`${run.command}\` failed. Reference: ${run.ref}`;
}

function shorten(word: string): string {
  return word.length > 40 ? `${word.slice(0, 40)}…` : word;
}
