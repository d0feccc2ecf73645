import t from 'tap';
import { startSimulator } from '../../src/simulator/index.js';
import { startBot } from '../kit/sim-bot.js';
import { eventually } from '../kit/wait.js';

t.test('delivery semantics', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  t.afterEach(() => sim.faults.clear());

  t.test('un-acked events are re-delivered on the next socket of the same device', async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    const room = sim.directRoom('alice@example.com');
    // Acks go unread, so the event stays pending although the SDK received it.
    sim.faults.stopReading();
    const msg = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'once?' });
    await eventually('first delivery', () => bot.created.some((e) => e.data.id === msg.id));
    const device = sim.devices()[0]!;
    t.equal(sim.devices()[0]!.pending, 1, 'pending: ack not read');
    sim.faults.killSockets();
    sim.faults.stopReading(false);
    await eventually('second delivery', () => bot.created.filter((e) => e.data.id === msg.id).length === 2);
    t.ok(
      sim.traffic().some((l) => l.kind === 'ws-out' && (l.frame as { redelivered?: boolean }).redelivered),
      'frame marked redelivered',
    );
    await eventually('acked now', () => sim.devices().find((d) => d.id === device.id)?.pending === 0);
  });

  t.test('multipleConnections=true: every socket of the device gets every event (second mercury session)', async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    bot.watchSession('second');
    const seen: string[] = [];
    bot.webex.internal.mercury.on('event:conversation.activity:second', (e: { data: { activity: { id: string } } }) =>
      seen.push(e.data.activity.id),
    );
    await bot.webex.internal.mercury.connect(undefined, 'second');
    t.ok(bot.events.includes('online:second'), 'online:second fired');
    const deviceId = sim.devices().at(-1)!.id;
    const open = sim.connections().filter((c) => c.open && c.deviceId === deviceId);
    t.equal(open.length, 2, 'two sockets on one device');
    const room = sim.directRoom('bob@example.com');
    const msg = sim.postMessage({ from: 'bob@example.com', roomId: room.id, text: 'both' });
    await eventually('default session event', () => bot.created.some((e) => e.data.id === msg.id));
    await eventually('second session event', () => seen.length > 0);
    const uuid = Buffer.from(msg.id, 'base64url').toString().split('/').pop();
    t.same(seen, [uuid]);
    t.equal(bot.created.filter((e) => e.data.id === msg.id).length, 1, 'messages plugin only listens to the default session');
    await bot.webex.internal.mercury.disconnect({ code: 3050, reason: 'done (permanent)' }, 'second');
    t.ok(bot.events.includes('offline:second:3050'), 'offline:second');
  });

  t.test('replace switch: a new socket closes the old one with 4000', async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    bot.watchSession('second');
    sim.faults.replaceOnNewConnection();
    await bot.webex.internal.mercury.connect(undefined, 'second');
    await eventually('default session replaced', () => bot.events.includes('offline.replaced:4000'));
    t.equal(bot.webex.internal.mercury.connected, false, 'default session is down');
    t.equal(bot.webex.internal.mercury.hasConnectedSockets('second'), true, 'second session is up');
  });

  t.test('malformed and oversized frames', async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    for (const kind of ['not-json', 'binary', 'no-data', 'unknown-event'] as const) sim.faults.malformedFrame(kind);
    sim.faults.oversizedFrame(3 * 1024 * 1024);
    const room = sim.directRoom('carol@example.com');
    const msg = sim.postMessage({ from: 'carol@example.com', roomId: room.id, text: 'still alive' });
    await eventually('event after garbage', () => bot.created.some((e) => e.data.id === msg.id));
    t.equal(bot.events.filter((e) => e.startsWith('offline')).length, 0, 'SDK survived: no reconnect');
  });

  /** Register a device over REST like the SDK does, for a raw websocket client. */
  const rawDevice = async (): Promise<{ webSocketUrl: string; url: string }> => {
    const res = await fetch(`${sim.baseUrl}/wdm/api/v1/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.botToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceType: 'WEB', name: 'raw' }),
    });
    return (await res.json()) as { webSocketUrl: string; url: string };
  };

  t.test('wire format seen by a raw client: buffer_state, pong, sequence numbers, frame without id', async (t) => {
    const { WebSocket } = await import('ws');
    const dev = await rawDevice();
    const deviceId = dev.url.split('/').pop()!;
    const ws = new WebSocket(dev.webSocketUrl + '?multipleConnections=true');
    const frames: Array<Record<string, unknown>> = [];
    ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ id: 'a1', type: 'authorization', data: { token: `Bearer ${sim.botToken}` } }));
    await eventually('buffer_state', () => frames.length >= 1);
    t.equal((frames[0]!.data as { eventType: string }).eventType, 'mercury.buffer_state');
    t.notOk('type' in frames[0]!, 'buffer_state has no top-level type');
    ws.send(JSON.stringify({ id: 'p1', type: 'ping' }));
    await eventually('pong', () => frames.some((f) => f.type === 'pong'));
    t.equal(frames.find((f) => f.type === 'pong')!.id, 'p1');
    // The SDK acks every frame; for one without id its ack promise rejects unhandled.
    sim.faults.malformedFrame('no-id', deviceId);
    await eventually('no-id frame', () => frames.some((f) => !('id' in f)));
    const seqs = frames.map((f) => f.sequenceNumber as number);
    t.same(
      seqs,
      seqs.map((_, i) => i + 1),
      'sequence numbers count up per socket',
    );
    ws.close();
  });

  t.test('wrong token on the socket: 4401', async (t) => {
    const { WebSocket } = await import('ws');
    const ws = new WebSocket((await rawDevice()).webSocketUrl);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ id: 'a1', type: 'authorization', data: { token: 'Bearer nope' } }));
    const code = await new Promise((r) => ws.once('close', (c) => r(c)));
    t.equal(code, 4401);
  });
});
