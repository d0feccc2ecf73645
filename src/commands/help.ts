import { OPEN_FORM, submitData, type Command } from '../bot/command.js';

/** Lists itself and the other commands the bot answers to. */
export function help(others: readonly Command[]): Command {
  const self: Command = {
    keyword: 'help',
    description: 'lists what I can do',
    async run(ctx) {
      const commands = [self, ...others];
      const lines = commands.map(
        (c) => `- \`${c.keyword}\`: ${c.description}${c.aliases?.length ? ` (also ${c.aliases.map((a) => `\`${a}\``).join(', ')})` : ''}`,
      );
      const withForms = commands.filter((c) => c.form);
      await ctx.reply({
        markdown: `Commands (in a group space, mention me first):\n${lines.join('\n')}`,
        card: {
          type: 'AdaptiveCard',
          version: '1.3',
          body: [
            { type: 'TextBlock', text: 'What I can do', weight: 'Bolder', size: 'Medium' },
            { type: 'TextBlock', text: 'In a group space, mention me first.', isSubtle: true, wrap: true },
            { type: 'FactSet', facts: commands.map((c) => ({ title: c.keyword, value: c.description })) },
          ],
          // One button per form: pressing it sends that form here.
          actions: withForms.map((c) => ({ type: 'Action.Submit', title: c.keyword, data: submitData(c.keyword, OPEN_FORM) })),
        },
      });
    },
  };
  return self;
}
