/**
 * The whole daemon through a real forward proxy (tinyproxy, with BasicAuth): it reaches READY and
 * answers, every REST call and the Mercury websocket go through the proxy (its log proves it), the
 * start log names the proxy without its credentials, and NO_PROXY bypasses it.
 *
 * The harness hands its env to loadConfig() alone (not merged with process.env), so HTTPS_PROXY /
 * NO_PROXY of the test process cannot leak in; TOODLES_PROXY_URL below is the only proxy setting.
 */
import t from 'tap';
import { startHarness } from '../kit/daemon-harness.js';
import { answered } from '../kit/recovery.js';
import { findTinyproxy, startTinyproxy, type Tinyproxy } from '../kit/tinyproxy.js';
import { sleep } from '../kit/wait.js';

const USER = 'proxyuser';
const PASSWORD = 'Pr0xy-pa55word';

/** tinyproxy logs a request when it arrives, the simulator when its answer is done: let them agree. */
async function settle(tp: Tinyproxy, expected: () => number): Promise<void> {
  for (let i = 0; i < 40 && (await tp.requests()).filter((r) => r.method !== 'CONNECT').length < expected(); i++) {
    await sleep(50);
  }
}

if (!findTinyproxy()) {
  t.plan(0, 'tinyproxy is not installed (apt-get install -y tinyproxy)');
} else {
  t.test('daemon through tinyproxy with credentials: READY, answers, everything proxied, no secret logged', async (t) => {
    const tp = await startTinyproxy({ basicAuth: { user: USER, pass: PASSWORD } });
    const proxyUrl = tp.url.replace('http://', `http://${USER}:${PASSWORD}@`);
    const h = await startHarness({ env: { TOODLES_PROXY_URL: proxyUrl } });
    t.teardown(async () => {
      await h.stop(); // before the proxy goes: the device unregister goes through it
      await tp.stop();
    });
    const { sim } = h;
    const port = new URL(sim.baseUrl).port;

    t.ok(h.notices.includes('READY=1'), 'READY=1 sent');
    const ms = await answered(h);
    t.comment(`through tinyproxy: READY, ping answered in ${ms} ms`);

    const start = h.logs.find((l) => l.event === 'daemon.start');
    t.equal(
      start?.proxy,
      `proxy http://***@127.0.0.1:${tp.port} (from TOODLES_PROXY_URL)`,
      'daemon.start names the proxy, credentials masked',
    );

    const rest = (): string[] =>
      sim
        .traffic()
        .filter((l) => l.kind === 'http')
        .map((l) => `${String(l['method'])} ${sim.baseUrl}${String(l['path'])}`);
    await settle(tp, () => rest().length);
    const proxied = await tp.requests();
    const proxiedRest = proxied.filter((r) => r.method !== 'CONNECT').map((r) => `${r.method} ${r.target}`);
    const served = rest();
    t.comment(`simulator served ${served.length} REST requests; tinyproxy logged ${proxied.length} requests`);
    for (const path of ['/v1/people/me', '/wdm/api/v1/devices', '/v1/messages']) {
      t.ok(
        proxiedRest.some((r) => r.includes(`${sim.baseUrl}${path}`)),
        `through the proxy: ${path}`,
      );
    }
    t.same([...proxiedRest].sort(), [...served].sort(), 'every REST request the simulator served came through the proxy');
    t.same(
      proxied.filter((r) => r.method === 'CONNECT').map((r) => r.target),
      [`127.0.0.1:${port}`],
      'the Mercury websocket: one CONNECT tunnel to the simulator',
    );
    const log = await tp.log();
    t.equal(log.match(/Established connection to host/g)?.length, proxied.length, 'tinyproxy accepted every request (no 407)');

    const everything = [...h.logs.map((l) => JSON.stringify(l)), ...h.notices].join('\n');
    t.notMatch(everything, PASSWORD, 'the password appears in no log line and no STATUS=');
    t.notMatch(everything, `${USER}:`, 'nor does user:password');
    t.notMatch(everything, Buffer.from(`${USER}:${PASSWORD}`).toString('base64'), 'nor the Proxy-Authorization value');
  });

  t.test('NO_PROXY=127.0.0.1: the daemon goes direct, tinyproxy sees nothing', async (t) => {
    const tp = await startTinyproxy();
    const h = await startHarness({ env: { TOODLES_PROXY_URL: tp.url, NO_PROXY: '127.0.0.1' } });
    t.teardown(async () => {
      await h.stop(); // before the proxy goes: the device unregister goes through it
      await tp.stop();
    });
    await answered(h);
    t.match(h.logs.find((l) => l.event === 'daemon.start')?.proxy, /, NO_PROXY=127\.0\.0\.1\)$/, 'daemon.start mentions NO_PROXY');
    t.ok(h.sim.traffic().filter((l) => l.kind === 'http').length >= 4, 'the daemon made REST calls');
    t.same(await tp.requests(), [], 'tinyproxy logged no request');
  });
}
