/** The hydra (public REST) shapes of the simulator's rooms and messages. */
import type { SimMessage, SimRoom } from './state.js';

export function messageDto(m: SimMessage): Record<string, unknown> {
  const { uuid: _u, fromBot: _f, deleted: _d, ...dto } = m;
  return dto;
}

export function roomDto(r: SimRoom): Record<string, unknown> {
  return { id: r.id, title: r.title, type: r.type, isLocked: false, lastActivity: r.lastActivity ?? r.created, created: r.created };
}
