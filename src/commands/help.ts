import { OPEN_FORM, submitData, type Command } from '../bot/command.js';
import { inlineCode } from '../bot/escape.js';
import type { CommandListing } from '../bot/registry.js';

/** Lists the commands the bot answers to when asked (the command modules' too); `help <command>` tells more about one. */
export function help(listing: CommandListing): Command {
  return {
    keyword: 'help',
    description: 'lists what I can do; `help <command>` tells more about one',
    async run(ctx) {
      const asked = ctx.args.split(/\s+/, 1)[0] ?? '';
      if (asked) {
        const command = listing.find(asked);
        if (!command)
          return (await ctx.reply({ markdown: `I don't know ${inlineCode(asked)}. Say \`help\` to see what I can do.` }), 'invalid');
        return ctx.reply({
          markdown: `\`${command.keyword}\`: ${command.description}${adminNote(command)}${command.help ? `\n\n${command.help}` : ''}`,
        });
      }
      const commands = listing.list();
      const lines = commands.map(
        (c) =>
          `- \`${c.keyword}\`: ${c.description}${c.aliases?.length ? ` (also ${c.aliases.map((a) => `\`${a}\``).join(', ')})` : ''}${adminNote(c)}`,
      );
      const withForms = commands.filter((c) => c.form);
      await ctx.reply({
        markdown: `Commands (in a group space, mention me first):\n${lines.join('\n')}`,
        card: {
          type: 'AdaptiveCard',
          version: '1.3',
          body: [
            { type: 'TextBlock', text: 'What I can do', weight: 'Bolder', size: 'Medium' },
            {
              type: 'TextBlock',
              text: 'In a group space, mention me first. Say help and a command for more about it.',
              isSubtle: true,
              wrap: true,
            },
            { type: 'FactSet', facts: commands.map((c) => ({ title: c.keyword, value: `${c.description}${adminNote(c)}` })) },
          ],
          // One button per form: pressing it sends that form here.
          actions: withForms.map((c) => ({ type: 'Action.Submit', title: c.keyword, data: submitData(c.keyword, OPEN_FORM) })),
        },
      });
    },
  };
}

const adminNote = (c: Command) => (c.adminOnly ? ' (admins only)' : '');
