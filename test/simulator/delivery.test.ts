import t from 'tap';
import { startSimulator } from '../../src/simulator/index.js';
import { startBot } from '../kit/sim-bot.js';
import { eventually } from '../kit/wait.js';

t.test('delivery semantics', async (t) => {
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  t.afterEach(() => sim.faults.clear());

  t.test("redelivery 'queue': un-acked events are re-delivered on the next socket of the same device", async (t) => {
    sim.faults.redelivery('queue');
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

  t.test("redelivery 'none' (the default): an un-acked event whose socket died is gone", async (t) => {
    const bot = await startBot(sim);
    t.teardown(() => bot.close());
    t.equal(sim.faults.snapshot().redelivery, 'none');
    const room = sim.directRoom('alice@example.com');
    sim.faults.stopReading();
    const msg = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'once' });
    await eventually('first delivery', () => bot.created.some((e) => e.data.id === msg.id));
    const device = sim.devices().at(-1);
    t.equal(device?.pending, 1, 'pending while its socket is open');
    sim.faults.killSockets();
    sim.faults.stopReading(false);
    await eventually('forgotten', () => sim.devices().find((d) => d.id === device?.id)?.pending === 0);
    await eventually('online again', () => bot.events.filter((e) => e === 'online').length === 2);
    const next = sim.postMessage({ from: 'alice@example.com', roomId: room.id, text: 'next' });
    await eventually('the next message, on the next socket', () => bot.created.some((e) => e.data.id === next.id));
    t.equal(bot.created.filter((e) => e.data.id === msg.id).length, 1, 'delivered once only');
  });

  t.test('the redelivery switch through the control API; clear() returns to the start option', async (t) => {
    const post = async (args: unknown[]) =>
      (await fetch(`${sim.controlUrl}/faults/redelivery`, { method: 'POST', body: JSON.stringify({ args }) })).status;
    t.equal(await post(['queue']), 200);
    t.equal(sim.faults.snapshot().redelivery, 'queue');
    t.equal(await post(['sometimes']), 400, 'none or queue only');
    sim.faults.clear();
    t.equal(sim.faults.snapshot().redelivery, 'none');
    const queueing = await startSimulator({ redelivery: 'queue' });
    t.teardown(() => queueing.stop());
    queueing.faults.redelivery('none');
    queueing.faults.clear();
    t.equal(queueing.faults.snapshot().redelivery, 'queue');
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

  for (const redelivery of ['none', 'queue'] as const) {
    const reaches = redelivery === 'queue' ? 'reaches' : 'never reaches';
    t.test(`redelivery '${redelivery}': a message sent while the socket is down ${reaches} the next socket`, async (t) => {
      const own = await startSimulator({ redelivery });
      t.teardown(() => own.stop());
      const bot = await startBot(own);
      t.teardown(() => bot.close());
      const room = own.directRoom('ivy@example.com');
      own.faults.refuseUpgrades();
      own.faults.killSockets();
      await eventually('a refused reconnect', () => own.traffic().some((l) => l.kind === 'ws-refused'));
      const gap = own.postMessage({ from: 'ivy@example.com', roomId: room.id, text: 'in the gap' });
      own.faults.refuseUpgrades(false);
      await eventually('online again', () => bot.events.filter((e) => e === 'online').length === 2);
      // Frames on one socket arrive in order: once this one is in, a re-delivered one would be too.
      const after = own.postMessage({ from: 'ivy@example.com', roomId: room.id, text: 'after' });
      await eventually('the message after the gap', () => bot.created.some((e) => e.data.id === after.id));
      await eventually('the gap message, under queue', () => redelivery === 'none' || bot.created.some((e) => e.data.id === gap.id));
      t.equal(bot.created.filter((e) => e.data.id === gap.id).length, redelivery === 'queue' ? 1 : 0);
      await eventually('nothing left pending', () => own.devices().every((d) => d.pending === 0));
    });
  }

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
