import t from 'tap';
import {
  startSimulator,
  type SimConnection,
  type SimDeviceInfo,
  type SimMessage,
  type SimPerson,
  type SimRoom,
} from '../../src/simulator/index.js';
import { startBot } from '../kit/sim-bot.js';
import { eventually } from '../kit/wait.js';

const CARD = {
  contentType: 'application/vnd.microsoft.card.adaptive',
  content: {
    type: 'AdaptiveCard',
    version: '1.3',
    body: [{ type: 'Input.Text', id: 'note' }],
    actions: [{ type: 'Action.Submit', title: 'Ack' }],
  },
};

t.test('the real SDK connects, receives, fetches and replies', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  const bot = await startBot(sim);
  t.teardown(() => bot.close());

  t.test('connect sequence: catalogs, people/me, device, socket, buffer_state -> online', async (t) => {
    const paths = sim
      .traffic()
      .filter((l) => l.kind === 'http')
      .map((l) => `${String(l.method)} ${String(l.path).split('?')[0]}`);
    t.ok(paths.includes('GET /u2c/api/v1/limited/catalog'), 'limited catalog');
    t.ok(paths.includes('GET /u2c/api/v1/catalog'), 'post-auth catalog');
    t.ok(paths.includes('GET /v1/people/me'), 'people/me');
    t.ok(paths.includes('POST /wdm/api/v1/devices'), 'device registration');
    t.equal(sim.devices().length, 1, 'one device');
    const [conn] = sim.connections();
    t.ok(conn?.open && conn.authorized, 'socket open and authorized');
    t.equal(conn?.multipleConnections, true, 'SDK asks for multipleConnections (ephemeral device)');
    t.same(bot.events.slice(0, 2), ['event:mercury.buffer_state', 'online']);
    const reg = sim.traffic().find((l) => l.kind === 'http' && l.method === 'POST' && String(l.path).startsWith('/wdm'));
    t.ok(reg, 'registration logged');
    t.equal(bot.webex.internal.mercury.connected, true);
  });

  t.test('direct message: event, fetch by id, threaded reply', async (t) => {
    const room = sim.directRoom('alice@example.com');
    const sent = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'status?' });
    const ev = await eventually('created event', () => bot.created.find((e) => e.data.id === sent.id));
    t.equal(ev.data.text, 'status?');
    t.equal(ev.data.roomType, 'direct');
    t.equal(ev.data.personEmail, 'alice@example.com');
    t.ok(
      sim.traffic().some((l) => l.kind === 'http' && String(l.path) === `/v1/messages/${sent.id}`),
      'SDK fetched the message by hydra id',
    );

    const reply = await bot.webex.messages.create({ roomId: ev.data.roomId, parentId: ev.data.id, markdown: 'all **good**' });
    t.equal(reply.parentId, sent.id);
    const got = await sim.waitForBotMessage((m) => m.parentId === sent.id);
    t.equal(got.markdown, 'all **good**');
    t.same(
      sim.repliesTo(sent.id).map((m) => m.id),
      [reply.id],
    );
    // The cloud echoes the bot's own message back over Mercury, as Webex does.
    await eventually('echo of own message', () => bot.created.find((e) => e.data.id === reply.id));
  });

  t.test('group room: text begins with the bot display name', async (t) => {
    const room = sim.groupRoom('incidents', ['bob@example.com', 'carol@example.com']);
    const sent = sim.postMessage({ from: 'bob@example.com', roomId: room.id, text: 'page oncall', mentionBot: true });
    const ev = await eventually('group created', () => bot.created.find((e) => e.data.id === sent.id));
    t.equal(ev.data.text, `${sim.bot.displayName} page oncall`);
    t.equal(ev.data.roomType, 'group');
    t.same(ev.data.mentionedPeople, [sim.bot.id]);
    const m = await bot.webex.request<{ items: unknown[] }>({
      service: 'hydra',
      method: 'GET',
      resource: 'memberships',
      qs: { roomId: room.id },
    });
    t.equal(m.body.items.length, 3, 'members: two people and the bot');
    const r = await bot.webex.rooms.get(room.id);
    t.equal(r.title, 'incidents');
  });

  t.test('card: send adaptive card, person submits, action fetched by id', async (t) => {
    const room = sim.directRoom('dave@example.com');
    const card = await bot.webex.messages.create({ toPersonEmail: 'dave@example.com', text: 'ack?', attachments: [CARD] });
    t.equal(card.roomId, room.id, 'toPersonEmail lands in the direct room');
    t.same(sim.botMessages().find((m) => m.id === card.id)?.attachments, [CARD]);
    const { actionId } = sim.submitCard({ from: 'dave@example.com', cardMessageId: card.id, inputs: { note: 'on it' } });
    const ev = await eventually('attachmentAction created', () => bot.actions.find((a) => a.data.id === actionId));
    t.equal(ev.data.messageId, card.id);
    const action = await bot.webex.attachmentActions.get(actionId);
    t.same(action.inputs, { note: 'on it' });
    t.equal(action.messageId, card.id);
  });

  t.test('delete a message', async (t) => {
    const msg = await bot.webex.messages.create({ toPersonEmail: 'alice@example.com', text: 'oops' });
    await bot.webex.messages.remove(msg.id);
    t.equal(sim.botMessages().find((m) => m.id === msg.id)?.deleted, true);
  });

  t.test('acks clear the pending queue', async (t) => {
    await eventually('all events acked', () => sim.devices()[0]?.pending === 0);
    t.pass('no event left un-acked');
  });
});

t.test('control API drives the simulator over HTTP', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  const bot = await startBot(sim);
  t.teardown(() => bot.close());
  /** T: the shape of the route's JSON answer, as the control API's comment gives it. */
  const call = async <T = unknown>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.controlUrl}${path}`, {
      method,
      ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const room = (await call<SimRoom>('POST', '/rooms/direct', { personEmail: 'erin@example.com' })).body;
  const msg = (await call<SimMessage>('POST', '/messages', { from: 'erin@example.com', roomId: room.id, text: 'via http' })).body;
  await eventually('created via control API', () => bot.created.find((e) => e.data.id === msg.id));
  const waiting = call<SimMessage>('GET', `/bot-messages/wait?parentId=${encodeURIComponent(msg.id)}&timeoutMs=3000`);
  await bot.webex.messages.create({ roomId: room.id, parentId: msg.id, text: 'pong' });
  t.equal((await waiting).body.text, 'pong');
  t.equal((await call<SimMessage[]>('GET', `/messages/${msg.id}/replies`)).body.length, 1);
  t.equal((await call<SimDeviceInfo[]>('GET', '/devices')).body.length, 1);
  t.equal((await call<SimConnection[]>('GET', '/connections')).body[0]?.open, true);
  t.equal((await call('POST', '/faults/failRest', { args: [{ path: '/v1/people', status: 500, count: 1 }] })).status, 200);
  t.equal((await call<{ rest: unknown[] }>('GET', '/faults')).body.rest.length, 1);
  await call('POST', '/faults/clear');
  t.equal((await call<{ rest: unknown[] }>('GET', '/faults')).body.rest.length, 0);
  t.equal((await call('POST', '/faults/nope', {})).status, 404);
  t.equal((await call('GET', '/bot-messages/wait?textIncludes=never&timeoutMs=50')).status, 408);
  const state = (await call<{ bot: SimPerson }>('GET', '/state')).body;
  t.equal(state.bot.email, sim.bot.email);
});
