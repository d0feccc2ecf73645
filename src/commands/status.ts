import { submitData, type Command, type Reply } from '../bot/command.js';
import { duration } from '../util/duration.js';
import type { CommandDeps } from './deps.js';

export function status(deps: Pick<CommandDeps, 'version' | 'startedAt' | 'now' | 'connection'>): Command {
  const answer = (ctx: { reply(r: Reply): Promise<void> }) => ctx.reply(statusReply(deps));
  return {
    keyword: 'status',
    description: 'shows uptime, connection state and reconnects',
    run: answer,
    actions: { refresh: answer },
  };
}

function statusReply(deps: Pick<CommandDeps, 'version' | 'startedAt' | 'now' | 'connection'>): Reply {
  const c = deps.connection();
  const rows: Array<[string, string]> = [
    ['Version', deps.version],
    ['Uptime', duration(deps.now() - deps.startedAt)],
    ['Connection', `${c.state} for ${duration(deps.now() - c.since)}`],
    ['Reconnects', String(c.reconnects)],
    ['Last reconnect', c.lastReconnectMs === undefined ? 'none yet' : `${c.lastReconnectMs} ms (${c.lastReconnectReason})`],
  ];
  return {
    markdown: rows.map(([k, v]) => `**${k}**: ${v}`).join('  \n'),
    card: {
      type: 'AdaptiveCard',
      version: '1.3',
      body: [{ type: 'FactSet', facts: rows.map(([title, value]) => ({ title, value })) }],
      actions: [{ type: 'Action.Submit', title: 'Refresh', data: submitData('status', 'refresh') }],
    },
  };
}
