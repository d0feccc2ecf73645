import t from 'tap';
import { createProxyAgent } from '../../src/webex/proxy/agent.js';
import { applyRestProxy, installRestProxy } from '../../src/webex/proxy/rest-hook.js';
import {
  ProxyConfigError,
  bypassesProxy,
  describeProxy,
  parseNoProxy,
  proxyForUrl,
  redactProxyUrl,
  resolveProxySettings,
} from '../../src/webex/proxy/settings.js';

t.test('precedence: TOODLES_PROXY_URL > HTTPS_PROXY > https_proxy > HTTP_PROXY > http_proxy', async (t) => {
  const all = {
    TOODLES_PROXY_URL: 'http://t:1',
    HTTPS_PROXY: 'http://a:2',
    https_proxy: 'http://b:3',
    HTTP_PROXY: 'http://c:4',
    http_proxy: 'http://d:5',
  };
  t.equal(resolveProxySettings(all).proxyUrl?.host, 't:1');
  t.equal(resolveProxySettings(all).source, 'TOODLES_PROXY_URL');
  const { TOODLES_PROXY_URL: _a, ...noT } = all;
  t.equal(resolveProxySettings(noT).source, 'HTTPS_PROXY');
  const { HTTPS_PROXY: _b, ...noHs } = noT;
  t.equal(resolveProxySettings(noHs).source, 'https_proxy');
  const { https_proxy: _c, ...noHsl } = noHs;
  t.equal(resolveProxySettings(noHsl).source, 'HTTP_PROXY');
  const { HTTP_PROXY: _d, ...onlyLower } = noHsl;
  t.equal(resolveProxySettings(onlyLower).source, 'http_proxy');
  t.equal(resolveProxySettings({}).proxyUrl, null);
  t.equal(resolveProxySettings({ HTTPS_PROXY: '   ' }).proxyUrl, null, 'blank is unset');
});

t.test('TOODLES_PROXY_URL=direct forces direct connections', async (t) => {
  const s = resolveProxySettings({ TOODLES_PROXY_URL: 'direct', HTTPS_PROXY: 'http://p:3128' });
  t.equal(s.proxyUrl, null);
  t.match(describeProxy(s), /forced by TOODLES_PROXY_URL/);
  t.equal(await createProxyAgent(s), undefined);
});

t.test('a value without scheme is http://', async (t) => {
  const s = resolveProxySettings({ HTTPS_PROXY: 'proxy.corp:8080' });
  t.equal(s.proxyUrl?.href, 'http://proxy.corp:8080/');
});

t.test('bad proxy URLs are config errors naming the setting, without echoing the value', async (t) => {
  for (const [env, setting] of [
    [{ TOODLES_PROXY_URL: 'http://user:s3cret@' }, 'TOODLES_PROXY_URL'],
    [{ HTTPS_PROXY: 'ftp://user:s3cret@host:21' }, 'HTTPS_PROXY'],
    [{ http_proxy: 'http://user:s3cret@host:99999' }, 'http_proxy'],
    [{ HTTP_PROXY: 'http://[::1' }, 'HTTP_PROXY'],
  ] as const) {
    try {
      resolveProxySettings(env);
      t.fail(`expected an error for ${setting}`);
    } catch (err) {
      t.ok(err instanceof ProxyConfigError, 'ProxyConfigError');
      t.equal((err as ProxyConfigError).setting, setting);
      t.match((err as Error).message, new RegExp(`^${setting}: `));
      t.notMatch((err as Error).message, /s3cret|user:s/, 'no credentials in the message');
    }
  }
});

t.test('redaction', async (t) => {
  t.equal(redactProxyUrl('http://bob:hunter2@proxy.corp:3128/'), 'http://***@proxy.corp:3128');
  t.equal(redactProxyUrl('http://bob@proxy.corp:3128'), 'http://***@proxy.corp:3128');
  t.equal(redactProxyUrl('http://proxy.corp:3128'), 'http://proxy.corp:3128');
  t.equal(redactProxyUrl('not a url'), '<invalid proxy URL>');
  const s = resolveProxySettings({ HTTPS_PROXY: 'http://bob:hunter2@proxy.corp:3128', no_proxy: 'localhost,.corp' });
  const line = describeProxy(s);
  t.equal(line, 'proxy http://***@proxy.corp:3128 (from HTTPS_PROXY, no_proxy=localhost,.corp)');
  t.notMatch(line, /bob|hunter2/);
  t.equal(describeProxy(resolveProxySettings({})), 'no proxy (direct connections)');
});

t.test('NO_PROXY parsing and matching', async (t) => {
  t.same(parseNoProxy(' localhost, .corp.example  *.svc 10.0.0.1:8080,[::1]:99, ,'), [
    { host: 'localhost', subdomainsOnly: false },
    { host: 'corp.example', subdomainsOnly: true },
    { host: 'svc', subdomainsOnly: true },
    { host: '10.0.0.1', subdomainsOnly: false, port: 8080 },
    { host: '::1', subdomainsOnly: false, port: 99 },
  ]);
  const np = parseNoProxy('localhost,.corp.example,webex.com,127.0.0.1:8080,[::1]');
  const by = (u: string): boolean => bypassesProxy(np, new URL(u));
  t.ok(by('http://localhost:1234/x'));
  t.ok(by('https://a.corp.example/'));
  t.notOk(by('https://corp.example/'), '.domain = subdomains only');
  t.ok(by('https://webex.com/'), 'plain domain matches itself');
  t.ok(by('wss://mercury.webex.com/'), 'and its subdomains');
  t.notOk(by('https://notwebex.com/'));
  t.ok(by('http://127.0.0.1:8080/'));
  t.notOk(by('http://127.0.0.1:8081/'), 'port must match');
  t.ok(by('http://[::1]:5/'));
  t.ok(bypassesProxy(parseNoProxy('*'), new URL('https://x.y/')));
  t.equal(resolveProxySettings({ NO_PROXY: 'a', no_proxy: 'b' }).noProxySource, 'NO_PROXY');
});

t.test('proxyForUrl maps websockets and honours NO_PROXY', async (t) => {
  const s = resolveProxySettings({ HTTPS_PROXY: 'http://p:3128', NO_PROXY: 'internal.example' });
  t.equal(proxyForUrl(s, 'wss://mercury.example/x'), 'http://p:3128/');
  t.equal(proxyForUrl(s, 'ws://127.0.0.1:9/x'), 'http://p:3128/', 'loopback is proxied when not in NO_PROXY');
  t.equal(proxyForUrl(s, 'https://a.internal.example/'), '');
  t.equal(proxyForUrl(s, 'garbage'), '');
  t.equal(proxyForUrl(resolveProxySettings({}), 'https://x/'), '');
});

t.test('applyRestProxy / installRestProxy', async (t) => {
  const agent = await createProxyAgent(resolveProxySettings({ HTTPS_PROXY: 'http://p:3128' }));
  t.ok(agent);
  const o = applyRestProxy({ uri: 'https://x/' }, agent);
  t.equal(o.agent, agent);
  t.equal(o.proxy, null, "request's own proxying is off");
  t.equal(o.timeout, 30_000);
  t.equal(applyRestProxy({ timeout: 5 }, agent).timeout, 5, 'an explicit timeout is kept');
  t.equal(applyRestProxy({}, undefined, { timeoutMs: 0 }).timeout, undefined);
  t.equal(applyRestProxy({}, undefined).agent, undefined);

  const seen: unknown[][] = [];
  const fake = {
    marker: 'self',
    request(this: { marker: string }, ...args: unknown[]): string {
      seen.push(args);
      return this.marker;
    },
  };
  const restore = installRestProxy(fake, agent, { timeoutMs: 7 });
  t.equal(fake.request({ uri: 'https://x/' }), 'self', 'this is preserved');
  t.equal(fake.request('https://y/', { method: 'POST' }), 'self');
  t.equal(fake.request('https://z/'), 'self');
  t.match(seen[0]?.[0], { uri: 'https://x/', proxy: null, timeout: 7 });
  t.equal((seen[0]?.[0] as { agent: unknown }).agent, agent);
  t.match(seen[1], ['https://y/', { method: 'POST', proxy: null, timeout: 7 }]);
  t.match(seen[2], ['https://z/', { proxy: null }]);
  restore();
  fake.request({ uri: 'q' });
  t.same(seen[3], [{ uri: 'q' }], 'restored');
  agent?.destroy();
});
