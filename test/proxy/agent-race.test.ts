/**
 * Regression test for the "socket hang up" on a fresh SDK instance's first REST call through a proxy.
 *
 * proxy-agent's ProxyAgent picks a per-proxy agent from an LRU cache; on a miss it awaits a dynamic
 * import() of the agent class, then creates and caches an agent. Two requests that miss concurrently
 * each create one, and the second cache.set() disposes (destroys) the first agent, with the first
 * request's socket in flight. Under tap's loader hooks the import takes a variable round trip, so
 * in the real tests this happened ~1 run in 8. Here the second import is made slow on purpose, so the
 * race is hit every time; our agent must serialise its selection so both requests succeed.
 */
import t from 'tap';
import http from 'node:http';
import type net from 'node:net';
import { proxies } from 'proxy-agent';
import { createProxyAgent } from '../../src/webex/proxy/agent.js';
import { resolveProxySettings } from '../../src/webex/proxy/settings.js';
import { CuttingProxy } from '../kit/cutting-proxy.js';
import { sleep } from '../kit/wait.js';

t.test('concurrent first requests through a fresh proxy agent both succeed', async (t) => {
  const server = http.createServer((_req, res) => setTimeout(() => res.end('ok'), 150));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as net.AddressInfo).port;
  const proxy = await CuttingProxy.start();
  t.teardown(() => proxy.close());

  // Make every import of the http-proxy-agent class after the first take 40 ms: the second request's
  // lookup then finishes while the first request is already waiting for its response.
  const original = proxies.http[0];
  let loads = 0;
  proxies.http[0] = async () => {
    const ctor = await original();
    if (loads++ > 0) await sleep(40);
    return ctor;
  };
  t.teardown(() => {
    proxies.http[0] = original;
  });

  const get = (agent: http.Agent, path: string): Promise<string> =>
    new Promise((resolve) => {
      const req = http.get(`http://127.0.0.1:${port}${path}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(`${res.statusCode ?? 0}`));
      });
      req.on('error', (err) => resolve(err.message));
    });

  const agent = (await createProxyAgent(resolveProxySettings({ HTTP_PROXY: proxy.url })))!;
  const first = get(agent, '/first');
  await sleep(1); // the SDK's calls are a tick or so apart
  const second = get(agent, '/second');
  t.same(await Promise.all([first, second]), ['200', '200'], 'both requests answered (no "socket hang up")');
  t.equal(loads, 1, 'one agent selected for the proxy, reused by the second request');
  agent.destroy();
});
