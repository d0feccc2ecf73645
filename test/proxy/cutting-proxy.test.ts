/**
 * The cutting proxy itself, and the real SDK through it: refused CONNECTs (407/502/503), a proxy that
 * is down or never answers, and a tunnel silently cut after N seconds (what the liveness check must
 * detect). Recovery times are printed.
 */
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startSimulator } from '../../src/simulator/index.js';
import { createMercuryAgent, createRestAgent, resolveProxySettings } from '../../src/webex/proxy.js';
import { CuttingProxy } from '../support/cutting-proxy.js';
import { connectSdk, lifo, servedPeopleMe } from '../support/proxied-sdk.js';

/** A loopback HTTP + websocket echo target. */
async function startTarget(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${req.method} ${req.url}`);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d.toString())));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The statusCode of a rejected SDK call (WebexHttpError), or -1 if it resolved. */
async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return -1;
  } catch (err) {
    return (err as { statusCode?: number }).statusCode ?? -2;
  }
}

function get(url: string, agent: http.Agent | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timeout'), { code: 'ETIMEDOUT' })));
  });
}

function openWs(url: string, agent: http.Agent | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...(agent ? { agent } : {}), handshakeTimeout: 3000 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function echo(ws: WebSocket, text: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.off('message', on);
      resolve(false);
    }, timeoutMs);
    const on = (d: WebSocket.RawData): void => {
      if (d.toString() !== text) return;
      clearTimeout(timer);
      ws.off('message', on);
      resolve(true);
    };
    ws.on('message', on);
    ws.send(text);
  });
}

t.test('cutting proxy: forwards plain HTTP and CONNECT, records them', async (t) => {
  const target = await startTarget();
  t.teardown(target.close);
  const proxy = await CuttingProxy.start();
  t.teardown(() => proxy.close());
  const settings = resolveProxySettings({ HTTP_PROXY: proxy.url });
  const rest = createRestAgent(settings);
  const wsAgent = createMercuryAgent(settings);
  t.teardown(() => {
    rest?.destroy();
    wsAgent?.destroy();
  });

  const r = await get(`http://127.0.0.1:${target.port}/x?y=1`, rest);
  t.same(r, { status: 200, body: 'hello GET /x?y=1' });
  t.match(proxy.find({ kind: 'http' }), [{ method: 'GET', target: `http://127.0.0.1:${target.port}/x?y=1`, outcome: 'forwarded 200' }]);

  const ws = await openWs(`ws://127.0.0.1:${target.port}/socket`, wsAgent);
  t.ok(await echo(ws, 'ping-1', 1000), 'websocket echo through the tunnel');
  t.match(proxy.find({ method: 'CONNECT' }), [{ target: `127.0.0.1:${target.port}`, outcome: 'tunnel' }]);
  t.equal(proxy.tunnels().length, 1);
  ws.terminate();
});

t.test('cutting proxy: silent cut after idle / lifetime keeps TCP open and moves no bytes', async (t) => {
  const target = await startTarget();
  t.teardown(target.close);
  const proxy = await CuttingProxy.start();
  t.teardown(() => proxy.close());
  const wsAgent = createMercuryAgent(resolveProxySettings({ HTTPS_PROXY: proxy.url }));
  t.teardown(() => wsAgent?.destroy());

  proxy.setCut({ idleMs: 300 });
  const ws = await openWs(`ws://127.0.0.1:${target.port}/`, wsAgent);
  t.ok(await echo(ws, 'a', 1000), 'works while active');
  const cut = await proxy.waitForCut(2000);
  t.equal(cut.cutReason, 'idle');
  t.ok(cut.cutAt! - cut.lastActivityAt >= 300, `cut after ${cut.cutAt! - cut.lastActivityAt} ms idle`);
  t.notOk(await echo(ws, 'b', 500), 'no echo after the cut');
  t.equal(ws.readyState, WebSocket.OPEN, 'the client still sees an open socket');
  ws.terminate();

  proxy.setCut({ lifetimeMs: 400 });
  const ws2 = await openWs(`ws://127.0.0.1:${target.port}/`, wsAgent);
  const opened = Date.now();
  let echoes = 0;
  while (await echo(ws2, `m${echoes}`, 300)) echoes++;
  const lasted = Date.now() - opened;
  t.ok(echoes > 3, `${echoes} echoes before the lifetime cut`);
  t.ok(lasted >= 400 && lasted < 1200, `busy tunnel cut at its lifetime (${lasted} ms)`);
  ws2.terminate();
});

t.test('cutting proxy: refuse, blackhole, down, up', async (t) => {
  const target = await startTarget();
  t.teardown(target.close);
  const proxy = await CuttingProxy.start();
  t.teardown(() => proxy.close());
  const settings = resolveProxySettings({ HTTPS_PROXY: proxy.url });
  const wsAgent = createMercuryAgent(settings, { connectTimeoutMs: 500 });
  const rest = createRestAgent(settings, { connectTimeoutMs: 500 });
  t.teardown(() => {
    wsAgent?.destroy();
    rest?.destroy();
  });
  const wsUrl = `ws://127.0.0.1:${target.port}/`;

  for (const status of [407, 502, 503] as const) {
    proxy.refuse(status);
    await t.rejects(openWs(wsUrl, wsAgent), { message: `Unexpected server response: ${status}` }, `CONNECT ${status}`);
    t.equal((await get(`http://127.0.0.1:${target.port}/`, rest)).status, status, `plain request ${status}`);
  }
  t.match(proxy.find({ method: 'CONNECT' }).map((r) => r.outcome), ['refused 407', 'refused 502', 'refused 503']);

  proxy.blackhole();
  let started = Date.now();
  await t.rejects(openWs(wsUrl, wsAgent), { name: 'ProxyConnectTimeoutError' }, 'blackholed CONNECT times out');
  t.comment(`blackholed CONNECT failed after ${Date.now() - started} ms (connectTimeoutMs 500)`);
  // A plain-http request has its proxy TCP connection at once; the hang is on the response, which the
  // caller's request timeout covers (installRestProxy gives every SDK call one).
  await t.rejects(get(`http://127.0.0.1:${target.port}/`, rest), { code: 'ETIMEDOUT' }, 'blackholed plain request: request timeout');

  await proxy.down();
  await t.rejects(openWs(wsUrl, wsAgent), { code: 'ECONNREFUSED' }, 'proxy down: ECONNREFUSED');
  await t.rejects(get(`http://127.0.0.1:${target.port}/`, rest), { code: 'ECONNREFUSED' });
  await proxy.up();
  const ws = await openWs(wsUrl, wsAgent);
  t.ok(await echo(ws, 'back', 1000), 'works again after up()');
  ws.terminate();
});

t.test('proxy auth: credentials in the URL become Proxy-Authorization', async (t) => {
  const target = await startTarget();
  t.teardown(target.close);
  const proxy = await CuttingProxy.start({ auth: { user: 'bot', pass: 's3cret' } });
  t.teardown(() => proxy.close());
  const good = resolveProxySettings({ TOODLES_PROXY_URL: proxy.url.replace('//', '//bot:s3cret@') });
  const bad = resolveProxySettings({ TOODLES_PROXY_URL: proxy.url.replace('//', '//bot:wrong@') });
  const goodWs = createMercuryAgent(good);
  const badWs = createMercuryAgent(bad);
  t.teardown(() => {
    goodWs?.destroy();
    badWs?.destroy();
  });
  const ws = await openWs(`ws://127.0.0.1:${target.port}/`, goodWs);
  ws.terminate();
  await t.rejects(openWs(`ws://127.0.0.1:${target.port}/`, badWs), { message: 'Unexpected server response: 407' });
});

// ------------------------------------------------------------------------------------------------
// The real SDK through the cutting proxy.

t.test('SDK: CONNECT refused / proxy down give clear errors, then recovery', { skip: process.env['TOODLES_PROXY_SDK_TESTS'] ? false : 'WIP: intermittent SDK-internal unhandled rejections (metrics POST, people/me socket hang up) through the proxy; set TOODLES_PROXY_SDK_TESTS=1' }, async (t) => {
  const defer = lifo(t);
  const sim = await startSimulator({ port: 0 });
  defer(() => sim.stop());
  const proxy = await CuttingProxy.start();
  defer(() => proxy.close());
  const settings = resolveProxySettings({ HTTPS_PROXY: proxy.url });
  const { sdk, stop } = connectSdk(sim, settings, {
    mercury: { backoffTimeReset: 200, backoffTimeMax: 400, pingInterval: 2000, pongTimeout: 1500 },
    connectTimeoutMs: 1000,
  });
  defer(stop);
  await sdk.messages.listen();
  await servedPeopleMe(sim);
  const mercury = sdk.internal.mercury;
  t.ok(mercury.connected, 'connected through the proxy');

  // Every new CONNECT refused; kill the live socket: the SDK retries through the proxy and fails.
  const closes: string[] = [];
  mercury.on('offline', (e: { code?: number; reason?: string }) => closes.push(`${e?.code} ${e?.reason}`));
  for (const status of [407, 502, 503] as const) {
    proxy.refuse(status);
    const before = proxy.find({ outcome: `refused ${status}` }).length;
    if (mercury.connected) sim.faults.killSockets();
    await proxy.waitForRecord((r) => r.outcome === `refused ${status}`, 5000);
    t.ok(proxy.find({ outcome: `refused ${status}` }).length > before, `SDK's reconnect hit CONNECT ${status}`);
    t.notOk(mercury.connected, 'not connected while refused');
  }
  // REST through a refusing proxy: the proxy's status surfaces as the call's status.
  proxy.refuse(407);
  t.equal(await statusOf(sdk.people.get('me')), 407, 'REST call fails with the proxy status 407');
  await proxy.down();
  t.equal(await statusOf(sdk.people.get('me')), 0, 'REST call with the proxy down: network error (statusCode 0)');
  await proxy.up();
  const started = Date.now();
  while (!mercury.connected) {
    if (Date.now() - started > 10_000) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(mercury.connected, `SDK reconnected by itself ${Date.now() - started} ms after the proxy came back`);
  t.comment(`SDK reconnected ${Date.now() - started} ms after the proxy came back (backoffTimeMax 400)`);
  t.ok((await sdk.people.get('me')).id, 'REST works again');
  t.comment(`mercury offline events: ${JSON.stringify(closes.slice(0, 5))}`);
});

t.test('SDK: a tunnel silently cut after N seconds is detected by the ping/pong liveness', { skip: process.env['TOODLES_PROXY_SDK_TESTS'] ? false : 'WIP: intermittent SDK-internal unhandled rejections (metrics POST, people/me socket hang up) through the proxy; set TOODLES_PROXY_SDK_TESTS=1' }, async (t) => {
  const defer = lifo(t);
  const sim = await startSimulator({ port: 0 });
  defer(() => sim.stop());
  const proxy = await CuttingProxy.start();
  defer(() => proxy.close());
  const settings = resolveProxySettings({ HTTPS_PROXY: proxy.url });
  const pingInterval = 1000;
  const pongTimeout = 800;
  const { sdk, stop } = connectSdk(sim, settings, {
    mercury: { backoffTimeReset: 200, backoffTimeMax: 400, pingInterval, pongTimeout },
    connectTimeoutMs: 1000,
  });
  defer(stop);
  await sdk.messages.listen();
  await servedPeopleMe(sim);
  const mercury = sdk.internal.mercury;

  // The corporate failure: the tunnel lives 2.5 s, then silently stops forwarding.
  proxy.setCut({ lifetimeMs: 2500 });
  const cut = await proxy.waitForCut(5000);
  const offline = await new Promise<number>((resolve) => mercury.once('offline', () => resolve(Date.now())));
  const detectMs = offline - cut.cutAt!;
  t.ok(detectMs <= pingInterval + pongTimeout + 500, `SDK noticed the silent cut after ${detectMs} ms`);
  t.comment(`silent cut detected by ping/pong in ${detectMs} ms (pingInterval ${pingInterval} + pongTimeout ${pongTimeout})`);
  proxy.setCut({});
  const reconnectStart = Date.now();
  while (!mercury.connected && Date.now() - reconnectStart < 10_000) await new Promise((r) => setTimeout(r, 20));
  t.ok(mercury.connected, `reconnected through a new tunnel ${Date.now() - reconnectStart} ms after detection`);
  t.ok(proxy.find({ method: 'CONNECT', outcome: 'tunnel' }).length >= 2, 'over a new CONNECT tunnel');
});
