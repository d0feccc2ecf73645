import t from 'tap';
import { startSimulator } from '../../src/simulator/index.js';
import type { HydraMessage, HydraPerson } from '../../src/webex/sdk-types.js';
import { exitAfterTests, startBot } from '../kit/sim-bot.js';
import { eventually, sleep } from '../kit/wait.js';

t.test('a second identity with its own token talks to the bot over REST', async (t) => {
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const canary = sim.addIdentity({ email: 'canary@webex.bot', displayName: 'Canary' });
  /** T: the shape of hydra's JSON answer (an error answers {} here). */
  const call = async <T = unknown>(method: string, path: string, body?: unknown, token = canary.token) => {
    const res = await fetch(`${sim.hydraUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
  };

  const me = await call<HydraPerson>('GET', '/people/me');
  t.match(me.body, { emails: ['canary@webex.bot'], displayName: 'Canary', type: 'bot' }, 'people/me is the identity, a bot');
  const sent = await call<HydraMessage>('POST', '/messages', { toPersonEmail: sim.bot.email, text: 'ping' });
  t.equal(sent.status, 200);
  t.equal(sent.body.roomId, sim.directRoom('canary@webex.bot').id, 'posted into its 1:1 space with the bot');
  t.equal(sent.body.personEmail, 'canary@webex.bot');

  // The bot answers in the thread (as the bot, with its own token); the identity reads the thread back.
  const reply = await call<HydraMessage>(
    'POST',
    '/messages',
    { roomId: sent.body.roomId, parentId: sent.body.id, markdown: 'pong' },
    sim.botToken,
  );
  t.equal(reply.status, 200);
  await call('POST', '/messages', { toPersonEmail: sim.bot.email, text: 'unrelated' });
  const thread = await call<{ items: HydraMessage[] }>(
    'GET',
    `/messages/direct?${new URLSearchParams({ personEmail: sim.bot.email, parentId: sent.body.id })}`,
  );
  t.same(
    thread.body.items.map((m) => m.id),
    [reply.body.id],
    'the thread holds the reply only',
  );
  const all = await call<{ items: HydraMessage[] }>('GET', `/messages/direct?${new URLSearchParams({ personEmail: sim.bot.email })}`);
  t.equal(all.body.items.length, 3, 'the whole 1:1 space, newest first');
  t.equal(all.body.items[0]?.text, 'unrelated');

  sim.addPerson({ email: 'alice@example.com' });
  t.equal((await call('POST', '/messages', { toPersonEmail: 'alice@example.com', text: 'hi' })).status, 403, 'it talks to the bot only');
  t.equal(
    (await call('POST', '/messages', { roomId: sim.groupRoom('war room', ['alice@example.com']).id, text: 'hi' })).status,
    404,
    'not in rooms it is not in',
  );
  t.equal((await call('POST', '/messages', { toPersonEmail: sim.bot.email })).status, 400, 'a message needs text');
  t.equal((await call('GET', `/messages/direct?personEmail=nobody@example.com`)).status, 404);
  const device = await fetch(`${sim.baseUrl}/wdm/api/v1/devices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${canary.token}` },
    body: '{}',
  });
  t.equal(device.status, 403, "devices are the bot's alone");
  t.equal((await call('GET', '/people/me', undefined, 'not-a-token')).status, 401);

  const viaControl = (await (
    await fetch(`${sim.controlUrl}/identities`, { method: 'POST', body: JSON.stringify({ email: 'pinger@webex.bot' }) })
  ).json()) as { token: string };
  t.equal(
    (await call<HydraPerson>('GET', '/people/me', undefined, viaControl.token)).body.emails[0],
    'pinger@webex.bot',
    'also through the control API',
  );
});

t.test('deaf device: pings answered, events never delivered, until a new device registers', async (t) => {
  exitAfterTests(t);
  const sim = await startSimulator({ port: 0 });
  t.teardown(() => sim.stop());
  const room = sim.directRoom('alice@example.com');
  const bot = await startBot(sim);
  t.teardown(() => bot.close());
  sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'before' });
  await eventually('the first message', () => bot.created.length === 1);

  const control = await fetch(`${sim.controlUrl}/faults/deafDevice`, { method: 'POST', body: '{}' });
  t.same(await control.json(), { result: 1 }, 'one device made deaf (through the control API)');
  t.same(sim.faults.snapshot().deafDevices, [sim.devices()[0]!.id]);
  sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'unheard' });
  await sleep(1_500); // five ping intervals
  t.equal(bot.created.length, 1, 'nothing delivered');
  t.notOk(
    bot.events.some((e) => e.startsWith('offline')),
    'the socket stays up: pongs keep coming',
  );
  t.equal(sim.devices()[0]!.pending, 0, 'not even queued for later');

  const fresh = await startBot(sim); // a new SDK instance registers a new device
  t.teardown(() => fresh.close());
  t.equal(sim.devices().length, 2);
  sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'heard' });
  await eventually('the new device hears it', () => fresh.created.length === 1);
  t.equal(bot.created.length, 1, 'the deaf one still does not');
  sim.faults.clear();
  t.same(sim.faults.snapshot().deafDevices, [], 'clear() ends it');
});
