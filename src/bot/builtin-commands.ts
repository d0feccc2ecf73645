import type { SupervisorStatus } from '../connection/supervisor.js';
import type { Command, Reply } from './command.js';

export interface BotFacts {
  version: string;
  startedAt: number;
  now(): number;
  connection(): SupervisorStatus;
  /** Every command the bot answers to, built-in or not, for `help`. */
  commands(): Command[];
}

export function builtinCommands(facts: BotFacts): Command[] {
  const help: Command = {
    name: 'help',
    description: 'lists what I can do',
    async run(ctx) {
      const lines = facts.commands().map((c) => `- \`${c.name}\`: ${c.description}`);
      await ctx.reply({ markdown: `Commands (in a group space, mention me first):\n${lines.join('\n')}` });
    },
  };
  const ping: Command = {
    name: 'ping',
    description: 'answers pong with the round-trip time to Webex',
    async run(ctx) {
      await ctx.reply({ markdown: `pong (Webex round trip ${ctx.fetchMs} ms)` });
    },
  };
  const status: Command = {
    name: 'status',
    description: 'shows uptime, connection state and reconnects',
    run: (ctx) => ctx.reply(statusReply(facts)),
    onCardSubmit: (ctx) => ctx.reply(statusReply(facts)),
  };
  return [help, ping, status];
}

function statusReply(facts: BotFacts): Reply {
  const c = facts.connection();
  const rows: Array<[string, string]> = [
    ['Version', facts.version],
    ['Uptime', duration(facts.now() - facts.startedAt)],
    ['Connection', `${c.state} for ${duration(facts.now() - c.since)}`],
    ['Reconnects', String(c.reconnects)],
    ['Last reconnect', c.lastReconnectMs === undefined ? 'none yet' : `${c.lastReconnectMs} ms (${c.lastReconnectReason})`],
  ];
  return {
    markdown: rows.map(([k, v]) => `**${k}**: ${v}`).join('  \n'),
    card: {
      type: 'AdaptiveCard',
      version: '1.3',
      body: [{ type: 'FactSet', facts: rows.map(([title, value]) => ({ title, value })) }],
      actions: [{ type: 'Action.Submit', title: 'Refresh', data: { command: 'status' } }],
    },
  };
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ] as const;
  const shown = parts.filter(([n]) => n > 0).slice(0, 2);
  return shown.length ? shown.map(([n, u]) => `${n}${u}`).join(' ') : '0s';
}
