// A module's command as the dispatcher runs it: the built-in contract, with the module's tools (its
// store, log, settings, escaping) added to every context, and what it hands back checked, so a
// mistake in a module fails that run with a reference rather than reaching Webex or the records.
import type { Logger } from 'pino';
import type { CardContext, Command, Reply } from '../bot/command.js';
import { cardText, inlineCode, markdownText } from '../bot/escape.js';
import type { Outcome } from '../storage/index.js';
import {
  MODULE_SETTING_PREFIX,
  type Conversation,
  type ModuleCommand,
  type ModuleLog,
  type Outcome as ModuleOutcome,
  type SubmitResult,
  type Tools,
} from './api.js';
import { commandStore, type KvStorage } from './kv.js';

export interface ToolDeps {
  storage: KvStorage;
  log: Logger;
  /** The TOODLES_MODULE_* settings. */
  settings: Readonly<Record<string, string>>;
  /** The module's file name, named in its log lines. */
  file: string;
}

type Sends = Pick<Conversation, 'reply' | 'post'>;

/** The module command as a built-in one; its fields are copied, so what the module does to its object later changes nothing. */
export function asCommand(m: ModuleCommand, deps: ToolDeps): Command {
  const tools: Tools = {
    store: commandStore(deps.storage, m.keyword),
    log: moduleLog(deps.log, m.keyword, deps.file),
    setting: (name) => {
      if (typeof name !== 'string' || !name.startsWith(MODULE_SETTING_PREFIX)) {
        throw new TypeError(`setting: a module may read only ${MODULE_SETTING_PREFIX}* settings (asked for ${String(name)})`);
      }
      return deps.settings[name];
    },
    escape: { markdownText, inlineCode, cardText },
  };
  const equipped = <C extends Sends>(ctx: C): C & Tools => ({
    ...ctx,
    reply: (r) => ctx.reply(checkedReply(r, 'ctx.reply')),
    post: (roomId, r) => ctx.post(roomId, checkedReply(r, 'ctx.post')),
    ...tools,
  });
  const form = m.form;
  return {
    keyword: m.keyword,
    ...(m.aliases ? { aliases: [...m.aliases] } : {}),
    description: m.description,
    ...(m.help !== undefined ? { help: m.help } : {}),
    ...(m.adminOnly ? { adminOnly: true } : {}),
    run: async (ctx) => outcome(await m.run(equipped(ctx))),
    ...(form
      ? {
          form: {
            fields: [...form.fields],
            required: [...form.required],
            card: () => form.card(),
            submit: async (ctx) => checkedSubmit(await form.submit(equipped(ctx))),
          },
        }
      : {}),
    ...(m.actions
      ? {
          actions: Object.fromEntries(
            Object.entries(m.actions).map(([name, act]) => [name, async (ctx: CardContext) => outcome(await act(equipped(ctx)))]),
          ),
        }
      : {}),
  };
}

function moduleLog(log: Logger, command: string, file: string): ModuleLog {
  const line = (fields: Record<string, unknown> | undefined, text: unknown) => ({
    ...fields,
    event: 'module.log',
    command,
    file,
    text: String(text),
  });
  return {
    info: (text, fields) => log.info(line(fields, text)),
    warn: (text, fields) => log.warn(line(fields, text)),
    error: (text, fields) => log.error(line(fields, text)),
  };
}

/** What a run resolved with, for the audit trail: 'invalid' and 'denied' as said, anything else an answer. */
function outcome(result: ModuleOutcome | void): Outcome {
  return result === 'invalid' || result === 'denied' ? result : 'ok';
}

function checkedReply(r: unknown, what: string): Reply {
  const reply = r as Partial<Reply> | null | undefined;
  if (typeof reply?.markdown !== 'string' || !reply.markdown.trim()) throw new TypeError(`${what} needs { markdown: 'some text' }`);
  if (reply.card !== undefined && (typeof reply.card !== 'object' || reply.card === null))
    throw new TypeError(`${what}: card must be an object`);
  return reply as Reply;
}

function checkedSubmit(result: unknown): SubmitResult {
  const r = result as Partial<Record<'recordedAs' | 'invalid', unknown>> & { reply?: unknown };
  if (typeof r?.invalid === 'string') return { invalid: r.invalid };
  if (typeof r?.recordedAs === 'string') return { recordedAs: r.recordedAs, reply: checkedReply(r.reply, 'form submit reply') };
  throw new TypeError('form submit must resolve with { recordedAs, reply } or { invalid }');
}
