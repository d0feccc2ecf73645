// `testing`: the approved-testing register. When a red team or a vendor tests, analysts see at a
// glance that an alert is expected. The model for a command with a form.
import type { Card, Command, CommandContext, Reply } from '../../bot/command.js';
import { cardText, inlineCode, markdownText } from '../../bot/escape.js';
import type { TestingEntry } from '../../storage/index.js';
import { errorText } from '../../util/error-text.js';
import type { CommandDeps } from '../deps.js';
import { entryFromForm, FIELDS, REQUIRED, testingForm, when } from './form.js';
import { covers, normaliseTarget } from './targets.js';

const USAGE = 'Say `testing` for the form, `testing list`, `testing check <host or IP>` or `testing remove <number>`.';

export function testing(deps: Pick<CommandDeps, 'storage' | 'settings' | 'now' | 'log'>): Command {
  const { storage, settings, now } = deps;

  const list = async (ctx: CommandContext) => {
    const at = now();
    const entries = await storage.testingEntriesOpenAt(at);
    if (!entries.length) return ctx.reply({ markdown: 'No approved testing is registered for now or later.' });
    await ctx.reply({
      markdown: entries.map((e) => `- ${summaryLine(e, at)}`).join('\n'),
      card: card(
        'Approved testing',
        entries.flatMap((e) => entryBlocks(e, at)),
      ),
    });
  };

  const check = async (ctx: CommandContext, what: string) => {
    if (!what || normaliseTarget(what) === undefined || what.includes(' ')) {
      return ctx.reply({ markdown: 'Say `testing check <host or IP>`, e.g. `testing check 10.1.2.3`.' });
    }
    const at = now();
    const hits = (await storage.testingEntriesOpenAt(at)).filter((e) => e.startsAt <= at && covers(e.targets, what));
    await ctx.reply({
      markdown: hits.length
        ? `Yes: ${inlineCode(what)} is covered by approved testing ${hits.map((e) => summaryLine(e, at)).join('; ')}`
        : `No: ${inlineCode(what)} is not covered by any approved testing in force.`,
    });
  };

  const remove = async (ctx: CommandContext, arg: string) => {
    const number = Number(arg.replace(/^#/, ''));
    const entry = Number.isInteger(number) && number > 0 ? await storage.testingEntry(number) : undefined;
    if (!entry)
      return (
        await ctx.reply({ markdown: `There is no entry ${arg ? inlineCode(arg.slice(0, 20)) : 'number given'}. ${USAGE}` }),
        'invalid' as const
      );
    const at = now();
    if (entry.endedEarlyAt !== undefined || entry.endsAt <= at)
      return (await ctx.reply({ markdown: `#${number} is already over.` }), 'invalid' as const);
    const email = ctx.sender.email.toLowerCase();
    if (email !== entry.createdByEmail.toLowerCase() && !settings().adminEmails.includes(email)) {
      await ctx.reply({ markdown: `Only ${markdownText(entry.createdByName)}, who registered #${number}, or an admin can end it.` });
      return 'denied' as const;
    }
    await storage.endTestingEntry(number, at, ctx.sender.email);
    await ctx.reply({ markdown: `#${number} (${markdownText(entry.tester)}) ended now; it stays in the history.` });
  };

  return {
    keyword: 'testing',
    description: 'the approved-testing register: record who tests what until when, list and check it',
    get rooms() {
      return settings().testingRooms;
    },
    async run(ctx) {
      const [sub = '', ...rest] = ctx.args.split(/\s+/);
      const arg = rest.join(' ').trim();
      switch (sub.toLowerCase()) {
        case '':
          return ctx.reply({ markdown: 'Register approved testing: open this form in a Webex app that shows cards.', card: testingForm() });
        case 'list':
          return list(ctx);
        case 'check':
          return check(ctx, arg);
        case 'remove':
          return remove(ctx, arg);
        default:
          await ctx.reply({ markdown: USAGE });
          return 'invalid';
      }
    },
    form: {
      fields: FIELDS,
      required: REQUIRED,
      card: testingForm,
      async submit(ctx) {
        const parsed = entryFromForm(ctx.inputs, { createdByEmail: ctx.sender.email, createdByName: ctx.sender.displayName }, now());
        if ('invalid' in parsed) return parsed;
        const entry = await storage.addTestingEntry(parsed.entry);
        const reply = confirmation(entry, now());
        const announceIn = settings().testingRoom;
        if (announceIn) {
          await ctx
            .post(announceIn, {
              ...reply,
              markdown: `New approved testing, registered by ${markdownText(entry.createdByName)}:\n\n${reply.markdown}`,
            })
            .catch((err: unknown) => {
              deps.log.warn({ event: 'testing.announce_failed', entry: entry.number, err: errorText(err) });
            });
        }
        return { recordedAs: `#${entry.number}`, reply };
      },
    },
  };
}

function confirmation(e: TestingEntry, at: number): Reply {
  return { markdown: summaryLine(e, at), card: card(`Approved testing #${e.number}`, entryBlocks(e, at)) };
}

function summaryLine(e: TestingEntry, at: number): string {
  const span = e.startsAt > at ? `from ${when(e.startsAt)} until ${when(e.endsAt)}` : `until ${when(e.endsAt)}`;
  const ticket = e.ticket ? `, ticket ${markdownText(e.ticket)}` : '';
  const targets = e.targets.map(markdownText).join(', ');
  return `**#${e.number}** ${markdownText(e.tester)}: ${targets} ${span} (${markdownText(e.what)}${ticket}; registered by ${markdownText(e.createdByName)})`;
}

function entryBlocks(e: TestingEntry, at: number): unknown[] {
  const facts = [
    ['Tester', cardText(e.tester)],
    ['Targets', cardText(e.targets.join(', '))],
    ['What and why', cardText(e.what)],
    ['From', when(e.startsAt)],
    ['Until', when(e.endsAt)],
    ...(e.ticket ? [['Ticket', cardText(e.ticket)]] : []),
    ['Registered by', cardText(e.createdByName)],
  ];
  return [
    { type: 'TextBlock', text: `#${e.number}${e.startsAt > at ? ' (not started yet)' : ''}`, weight: 'Bolder', separator: true },
    { type: 'FactSet', facts: facts.map(([title, value]) => ({ title, value })) },
  ];
}

function card(title: string, body: unknown[]): Card {
  return { type: 'AdaptiveCard', version: '1.3', body: [{ type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium' }, ...body] };
}
