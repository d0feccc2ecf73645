import type { Logger } from 'pino';
import type { Outcome, Storage, Submission } from '../storage/index.js';
import { sleep } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import type { CardAction, WebexApi } from '../webex/types.js';
import type { CardContext, Command, Form, Reply, Room, Sender } from './command.js';
import { markdownText } from './escape.js';

export interface FormsDeps {
  api: Pick<WebexApi, 'deleteMessage'>;
  storage: Pick<Storage, 'submission' | 'claimSubmission' | 'recordSubmission' | 'releaseSubmission'>;
  log: Logger;
  /** Submits run under this limit, so a claim twice as old was left by one that died. */
  handlerTimeoutMs: number;
}

/** Where a card's answers go: its space, and its thread unless the card is gone. */
export interface CardPlace {
  room: Room;
  threadId?: string;
}

/** The dispatcher's run, as a submit sees it; its place moves when another submit's answer stands. */
export interface SubmitRun extends CardPlace {
  readonly sender: Sender;
  readonly ref: string;
}

/** One submit of a command's form. */
export interface FormSubmit {
  command: Command;
  form: Form;
  action: CardAction;
  /** What an earlier submit of this card became, looked up (earlierSubmission) before the run began. */
  earlier: Submission | undefined;
}

const MAX_INPUT_CHARS = 4000;
const REMEMBERED_SUBMISSIONS = 1000;
/** How often a submit that lost its card to one still running elsewhere looks for that one's result. */
const CLAIM_POLL_MS = 100;

/**
 * The form-submission protocol: a form is recorded once, however often and wherever it is
 * submitted (double clicks, two instances sharing the database). Holds the per-card state.
 */
export class Forms {
  /** Actions on one card, one after the other: a double click must see the first one's result. */
  private readonly perCard = new Map<string, Promise<unknown>>();
  /** Recent submissions, so a double submit is caught even while the database is unavailable. */
  private readonly submitted = new Map<string, Submission>();

  constructor(private readonly deps: FormsDeps) {}

  async oneAtATime(cardMessageId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.perCard.get(cardMessageId) ?? Promise.resolve();
    const mine = previous.then(work, work);
    const tail = mine.catch(() => undefined);
    this.perCard.set(cardMessageId, tail);
    try {
      await mine;
    } finally {
      if (this.perCard.get(cardMessageId) === tail) this.perCard.delete(cardMessageId);
    }
  }

  /** A submission of this card, recorded or still running; a database that cannot say counts as none. */
  async earlierSubmission(cardMessageId: string): Promise<Submission | undefined> {
    const known = this.submitted.get(cardMessageId);
    if (known) return known;
    try {
      return await this.deps.storage.submission(cardMessageId);
    } catch (err) {
      this.deps.log.error({ event: 'storage.failed', op: 'read submission', err: errorText(err) });
      return undefined;
    }
  }

  /** Reads and checks the inputs, takes the card, runs the form's own submit, records it and removes the card. */
  async submit(ctx: CardContext, run: SubmitRun, { command, form, action, earlier }: FormSubmit): Promise<Outcome> {
    if (earlier?.recordedAs !== undefined) return alreadyRecorded(ctx, earlier);
    const { values, malformed, extra } = readInputs(action.inputs, form.fields);
    if (extra.length)
      this.deps.log.info({ event: 'card.extra_inputs', command: command.keyword, inputs: extra.slice(0, 10), ref: run.ref });
    if (malformed.length) {
      await ctx.reply({ markdown: `That form came back damaged (${malformed.join(', ')}). Say \`${command.keyword}\` for a fresh one.` });
      return 'invalid';
    }
    const missing = form.required.filter((f) => !values[f]);
    if (missing.length) {
      await ctx.reply({ markdown: `Please fill in: ${missing.map((f) => `**${f}**`).join(', ')}. Nothing was recorded.` });
      return 'invalid';
    }
    const { room, threadId } = run;
    const claim = {
      cardMessageId: action.messageId,
      command: command.keyword,
      byName: run.sender.displayName,
      at: Date.now(),
      roomId: room.id,
      roomType: room.type,
      ...(threadId ? { threadId } : {}),
    };
    const standing = await this.claimCard(claim, run, ctx.signal);
    if (standing) {
      Object.assign(run, placeOf(standing)); // the first submit may have deleted the card: answer beside its answer
      return alreadyRecorded(ctx, standing);
    }
    let result;
    try {
      result = await form.submit({ ...ctx, inputs: values });
    } catch (err) {
      this.release(claim.cardMessageId, run);
      throw err;
    }
    if ('invalid' in result) {
      this.release(claim.cardMessageId, run);
      await ctx.reply({ markdown: `${result.invalid} Nothing was recorded.` });
      return 'invalid';
    }
    await this.remember({ ...claim, recordedAs: result.recordedAs }, run);
    // The form goes, so it cannot be submitted again; the answer says who submitted it, as what.
    await this.deps.api.deleteMessage(action.messageId, ctx.signal).catch((err: unknown) => {
      this.deps.log.warn({ event: 'card.delete_failed', ref: run.ref, err: errorText(err) });
    });
    await ctx.reply({
      markdown: `Submitted by ${markdownText(run.sender.displayName)}: recorded as ${result.recordedAs}.\n\n${result.reply.markdown}`,
      card: result.reply.card,
    });
    return 'ok';
  }

  /**
   * Takes the card for this submit, so that of two submits at once (on two instances sharing the
   * database) exactly one runs. Undefined: go ahead. Otherwise the submission that stands, once the
   * submit running elsewhere has gone through; one that did not go through leaves the card to us.
   * Without the database the local memory is all there is, as with a single instance.
   */
  private async claimCard(claim: Omit<Submission, 'recordedAs'>, run: SubmitRun, signal: AbortSignal): Promise<Submission | undefined> {
    for (;;) {
      try {
        if (await this.deps.storage.claimSubmission(claim, Date.now() - 2 * this.deps.handlerTimeoutMs)) return undefined;
        const standing = await this.deps.storage.submission(claim.cardMessageId);
        if (standing?.recordedAs !== undefined) return standing;
      } catch (err) {
        this.deps.log.error({ event: 'storage.failed', op: 'claim submission', ref: run.ref, err: errorText(err) });
        return undefined;
      }
      await sleep(CLAIM_POLL_MS, signal);
    }
  }

  private release(cardMessageId: string, run: SubmitRun): void {
    this.deps.storage.releaseSubmission(cardMessageId).catch((err: unknown) => {
      this.deps.log.error({ event: 'storage.failed', op: 'release submission', ref: run.ref, err: errorText(err) });
    });
  }

  private async remember(submission: Submission & { recordedAs: string }, run: SubmitRun): Promise<void> {
    this.submitted.set(submission.cardMessageId, submission);
    if (this.submitted.size > REMEMBERED_SUBMISSIONS) this.submitted.delete(this.submitted.keys().next().value!);
    try {
      await this.deps.storage.recordSubmission(submission);
    } catch (err) {
      this.deps.log.error({ event: 'storage.failed', op: 'record submission', ref: run.ref, err: errorText(err) });
    }
  }
}

/** Where a submission's answer went, so a later submit's answer lands beside it. */
export function placeOf(s: Submission): CardPlace {
  return { room: { id: s.roomId, type: s.roomType }, threadId: s.threadId };
}

/** The form card, with a markdown line for clients that cannot show cards. */
export function formReply(command: Command, form: Form): Reply {
  return {
    markdown: `\`${command.keyword}\`: ${command.description} (this is a form: open it in a Webex app that shows cards)`,
    card: form.card(),
  };
}

async function alreadyRecorded(ctx: CardContext, s: Submission): Promise<Outcome> {
  await ctx.reply({ markdown: `Already recorded as ${s.recordedAs} (submitted by ${markdownText(s.byName)}); nothing changed.` });
  return 'invalid';
}

/** Declared inputs as trimmed strings; anything not a string or far too long is malformed, undeclared ones are extra. */
function readInputs(inputs: Record<string, unknown>, fields: readonly string[]) {
  const values: Record<string, string> = {};
  const malformed: string[] = [];
  for (const field of fields) {
    const v = inputs[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.length > MAX_INPUT_CHARS) malformed.push(field);
    else values[field] = v.trim();
  }
  const extra = Object.keys(inputs).filter((k) => k !== 'callback' && !fields.includes(k));
  return { values, malformed, extra };
}
