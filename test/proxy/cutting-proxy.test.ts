/**
 * The cutting proxy itself, and our proxy agents through it: refused CONNECTs (407/502/503), a proxy
 * that is down or never answers, and a tunnel silently cut after N seconds. The daemon through it
 * (detection, backoff, recovery times): daemon-proxy-faults.test.ts.
 */
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createProxyAgent } from '../../src/webex/proxy/agent.js';
import { resolveProxySettings } from '../../src/webex/proxy/settings.js';
import { CuttingProxy } from '../kit/cutting-proxy.js';

/** A loopback HTTP + websocket echo target. */
async function startTarget(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${req.method} ${req.url}`);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (d: Buffer) => ws.send(d.toString())));
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
    const on = (d: Buffer): void => {
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
  const rest = await createProxyAgent(settings);
  const wsAgent = await createProxyAgent(settings);
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
  const wsAgent = await createProxyAgent(resolveProxySettings({ HTTPS_PROXY: proxy.url }));
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
  const wsAgent = await createProxyAgent(settings, { connectTimeoutMs: 500 });
  const rest = await createProxyAgent(settings, { connectTimeoutMs: 500 });
  t.teardown(() => {
    wsAgent?.destroy();
    rest?.destroy();
  });
  const wsUrl = `ws://127.0.0.1:${target.port}/`;

  for (const status of [407, 502, 503] as const) {
    proxy.refuse(status);
    await t.rejects(
      openWs(wsUrl, wsAgent),
      {
        name: 'ProxyRefusedError',
        proxyStatus: status,
        message: new RegExp(`^proxy ${proxy.url} refused the tunnel to 127\\.0\\.0\\.1:${target.port}: ${status} `),
      },
      `CONNECT ${status}: the error names the proxy`,
    );
    t.equal((await get(`http://127.0.0.1:${target.port}/`, rest)).status, status, `plain request ${status}`);
  }
  t.match(
    proxy.find({ method: 'CONNECT' }).map((r) => r.outcome),
    ['refused 407', 'refused 502', 'refused 503'],
  );

  proxy.blackhole();
  const started = Date.now();
  await t.rejects(openWs(wsUrl, wsAgent), { name: 'ProxyConnectTimeoutError' }, 'blackholed CONNECT times out');
  t.comment(`blackholed CONNECT failed after ${Date.now() - started} ms (connectTimeoutMs 500)`);
  // A plain-http request has its proxy TCP connection at once; the hang is on the response, which the
  // caller's request timeout covers (installRestProxy gives every SDK call one).
  await t.rejects(get(`http://127.0.0.1:${target.port}/`, rest), { code: 'ETIMEDOUT' }, 'blackholed plain request: request timeout');

  await proxy.down();
  const unreachable = {
    name: 'ProxyUnreachableError',
    code: 'ECONNREFUSED',
    message: new RegExp(`^proxy ${proxy.url} unreachable: connect ECONNREFUSED`),
  };
  await t.rejects(openWs(wsUrl, wsAgent), unreachable, 'proxy down: the websocket error names the proxy');
  await t.rejects(get(`http://127.0.0.1:${target.port}/`, rest), unreachable, 'proxy down: the REST error names the proxy');
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
  const goodWs = await createProxyAgent(good);
  const badWs = await createProxyAgent(bad);
  t.teardown(() => {
    goodWs?.destroy();
    badWs?.destroy();
  });
  const ws = await openWs(`ws://127.0.0.1:${target.port}/`, goodWs);
  ws.terminate();
  const refused = await openWs(`ws://127.0.0.1:${target.port}/`, badWs).then(
    () => new Error('connected with the wrong password'),
    (err: Error) => err,
  );
  t.match(refused, { name: 'ProxyRefusedError', proxyStatus: 407, message: /^proxy http:\/\/\*\*\*@127\.0\.0\.1:\d+ refused the tunnel/ });
  t.notMatch(refused.message, /wrong|bot:/, 'the error names the proxy without its credentials');
});
