/**
 * HTTP control API under /_sim/, mirroring the in-process Simulator API so other processes
 * (benchmarks, the demo, the systemd test) can drive the simulator with curl/fetch.
 *
 *   GET  /_sim/state                      bot, people, rooms, devices, connections, faults
 *   POST /_sim/people                     {email, displayName?, type?: 'person'|'bot'}
 *   POST /_sim/identities                 {email, displayName?} -> {token, person}: a second identity (a bot) with its own token
 *   POST /_sim/rooms/direct               {personEmail}
 *   POST /_sim/rooms/group                {title, memberEmails}
 *   POST /_sim/messages                   {from, roomId, text, parentId?, mentionBot?, files?, at?}: with `at` (epoch ms), history
 *   POST /_sim/cards/submit               {from, cardMessageId, inputs}
 *   GET  /_sim/bot-messages               everything the bot sent
 *   GET  /_sim/bot-messages/wait?roomId=&parentId=&textIncludes=&timeoutMs=   long-poll for one
 *   GET  /_sim/messages/{id}/replies
 *   GET  /_sim/devices | /_sim/connections | /_sim/traffic
 *   GET  /_sim/faults                     current switches
 *   POST /_sim/faults/clear
 *   POST /_sim/faults/{name}              body {args: [...]} passed to sim.faults[name](...args)
 *   POST /_sim/faults/redelivery          {args: ['none'|'queue']}: re-delivery, switched at run time
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJson, sendJson } from './http-util.js';
import type { NewSimMessage, Simulator, SimFaults } from './types.js';
import type { SimMessage } from './state.js';

export const CONTROL_PREFIX = '/_sim';

const FAULT_NAMES: Array<keyof SimFaults> = [
  'killSockets',
  'closeSockets',
  'silence',
  'stopReading',
  'refuseUpgrades',
  'withholdBufferState',
  'zombie',
  'blackhole',
  'failRest',
  'slowRest',
  'malformedFrame',
  'oversizedFrame',
  'excessiveDeviceRegistrations',
  'replaceOnNewConnection',
  'deafDevice',
  'redelivery',
];

/**
 * What the POST routes read from their JSON bodies. Tests and tools write them; the simulator takes
 * their value types on trust and only checks that a required field is there.
 */
interface ControlBody extends NewSimMessage {
  email: string;
  displayName?: string;
  type?: 'person' | 'bot';
  personEmail: string;
  title: string;
  memberEmails: string[];
  cardMessageId: string;
  inputs?: Record<string, unknown>;
  args?: unknown;
}

export class ControlApi {
  constructor(private readonly sim: Simulator) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const r = await this.route(req.method ?? 'GET', url.pathname.slice(CONTROL_PREFIX.length), url.searchParams, req);
      sendJson(res, 200, r ?? { ok: true });
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 400;
      sendJson(res, status, { error: String((e as Error)?.message ?? e) });
    }
  }

  private async route(method: string, path: string, q: URLSearchParams, req: IncomingMessage): Promise<unknown> {
    const sim = this.sim;
    const body: Partial<ControlBody> = method === 'POST' ? await readJson(req) : {};
    const need = <K extends keyof ControlBody>(k: K): ControlBody[K] => {
      const v = body[k];
      if (v === undefined) throw new HttpError(400, `missing ${k}`);
      return v;
    };
    let m: RegExpExecArray | null;
    if (method === 'GET') {
      if (path === '/state')
        return {
          bot: sim.bot,
          u2cUrl: sim.u2cUrl,
          hydraUrl: sim.hydraUrl,
          devices: sim.devices(),
          connections: sim.connections(),
          faults: sim.faults.snapshot(),
        };
      if (path === '/bot-messages') return sim.botMessages();
      if (path === '/bot-messages/wait') {
        const pred = (msg: SimMessage) =>
          (!q.get('roomId') || msg.roomId === q.get('roomId')) &&
          (!q.get('parentId') || msg.parentId === q.get('parentId')) &&
          (!q.get('textIncludes') || (msg.text ?? msg.markdown ?? '').includes(q.get('textIncludes')!));
        try {
          return await sim.waitForBotMessage(pred, Number(q.get('timeoutMs') ?? 5000));
        } catch (e) {
          throw new HttpError(408, String((e as Error).message));
        }
      }
      if ((m = /^\/messages\/([^/]+)\/replies$/.exec(path))) return sim.repliesTo(m[1]!);
      if (path === '/devices') return sim.devices();
      if (path === '/connections') return sim.connections();
      if (path === '/traffic') return sim.traffic();
      if (path === '/faults') return sim.faults.snapshot();
    }
    if (method === 'POST') {
      if (path === '/people') return sim.addPerson({ email: need('email'), displayName: body.displayName, type: body.type });
      if (path === '/identities') return sim.addIdentity({ email: need('email'), displayName: body.displayName });
      if (path === '/rooms/direct') return sim.directRoom(need('personEmail'));
      if (path === '/rooms/group') return sim.groupRoom(need('title'), need('memberEmails'));
      if (path === '/messages')
        return sim.postMessage({
          from: need('from'),
          roomId: need('roomId'),
          text: need('text'),
          parentId: body.parentId,
          mentionBot: body.mentionBot,
          files: body.files,
          at: body.at,
        });
      if (path === '/cards/submit')
        return sim.submitCard({ from: need('from'), cardMessageId: need('cardMessageId'), inputs: body.inputs ?? {} });
      if (path === '/faults/clear') return sim.faults.clear();
      if ((m = /^\/faults\/([A-Za-z]+)$/.exec(path)) && FAULT_NAMES.includes(m[1] as keyof SimFaults)) {
        const args: unknown[] = Array.isArray(body.args) ? body.args : [];
        const fn = sim.faults[m[1] as keyof SimFaults] as (...a: unknown[]) => unknown;
        return { result: fn(...args) ?? null };
      }
    }
    throw new HttpError(404, `no control route ${method} ${path}`);
  }
}
