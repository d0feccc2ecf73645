import type { Command } from '../bot/command.js';

export function ping(): Command {
  return {
    keyword: 'ping',
    description: 'answers pong with the round-trip time to Webex',
    async run(ctx) {
      await ctx.reply({ markdown: `pong (Webex round trip ${ctx.fetchMs} ms)` });
    },
  };
}
