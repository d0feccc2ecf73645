/**
 * toodles' REST calls through the SDK's request() (src/webex/hydra.ts): the real SDK, made as the
 * daemon makes it (no public plugins), against the simulator.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { startSimulator } from '../../src/simulator/index.js';
import { errorText } from '../../src/util/error-text.js';
import { hasNextLink, hydra, hydraPage } from '../../src/webex/hydra.js';
import { httpStatus } from '../../src/webex/rest.js';
import { createWebexSdk, type HydraAttachmentAction, type HydraMessage, type HydraPerson } from '../../src/webex/sdk.js';
import { exitAfterTests } from '../kit/sim-bot.js';

const ALICE = 'alice@example.com';

t.test('hasNextLink: rel="next" among the Link header’s links', async (t) => {
  const next = '<https://webexapis.com/v1/messages?cursor=abc>; rel="next"';
  const prev = '<https://webexapis.com/v1/messages?cursor=xyz>; rel="prev"';
  t.ok(hasNextLink(next), 'one link, quoted');
  t.ok(hasNextLink('<https://x/v1/rooms?a=1,2>; rel=next'), 'unquoted, a comma inside the URL');
  t.ok(hasNextLink(`${prev}, ${next}`), 'two links joined in one header');
  t.ok(hasNextLink([prev, next]), 'two headers');
  t.ok(hasNextLink('<https://x/v1/rooms>; rel="prev next"'), 'one of several relations');
  t.notOk(hasNextLink(prev), 'only a previous page');
  t.notOk(hasNextLink('<https://x/v1/next>; rel="nextpage"'), 'another relation');
  t.notOk(hasNextLink(undefined), 'no header');
  t.notOk(hasNextLink(''), 'an empty header');
});

t.test('the calls the daemon makes, on an SDK without the public plugins', async (t) => {
  exitAfterTests(t);
  const sim = await startSimulator();
  t.teardown(() => sim.stop());
  t.afterEach(() => sim.faults.clear());
  const sdk = createWebexSdk({ token: sim.botToken, u2cUrl: sim.u2cUrl, hydraUrl: sim.hydraUrl });
  const room = sim.directRoom(ALICE);

  const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) =>
    /@webex\/(plugin-(people|rooms|messages|attachment)|internal-plugin-conversation)/.test(p),
  );
  t.same(loaded, [], 'none of the public plugins (nor the conversation code they bring) is loaded');

  t.test('people/me', async (t) => {
    const me = await hydra<HydraPerson>(sdk, { resource: 'people/me' });
    t.equal(me.id, sim.bot.id);
    t.equal(me.displayName, sim.bot.displayName);
  });

  t.test('a message sent, read back, listed page by page, deleted', async (t) => {
    const sent = await hydra<HydraMessage>(sdk, {
      method: 'POST',
      resource: 'messages',
      body: { roomId: room.id, markdown: 'hello **there**' },
    });
    t.equal(sim.botMessages().find((m) => m.id === sent.id)?.markdown, 'hello **there**', 'posted as JSON');
    const read = await hydra<HydraMessage>(sdk, { resource: `messages/${encodeURIComponent(sent.id)}` });
    t.equal(read.roomId, room.id);

    for (const text of ['one', 'two']) sim.postMessage({ from: ALICE, roomId: room.id, text });
    const first = await hydraPage<HydraMessage>(sdk, 'messages', { roomId: room.id, max: 2 });
    t.same(
      first.items.map((m) => m.text),
      ['two', 'one'],
      'newest first',
    );
    t.ok(first.more, 'the Link header names a next page');
    const last = await hydraPage<HydraMessage>(sdk, 'messages', { roomId: room.id, max: 2, beforeMessage: first.items[1]?.id ?? '' });
    t.same(
      last.items.map((m) => m.id),
      [sent.id],
    );
    t.notOk(last.more, 'no page after the last');

    const deleted = await hydra<unknown>(sdk, { method: 'DELETE', resource: `messages/${encodeURIComponent(sent.id)}` });
    t.notOk(deleted, 'a 204 resolves with no body');
    t.equal(sim.botMessages().find((m) => m.id === sent.id)?.deleted, true);
  });

  t.test('a card submit by id', async (t) => {
    const card = sim.postMessage({ from: ALICE, roomId: room.id, text: 'card' });
    const { actionId } = sim.submitCard({ from: ALICE, cardMessageId: card.id, inputs: { note: 'on it' } });
    const action = await hydra<HydraAttachmentAction>(sdk, { resource: `attachment/actions/${encodeURIComponent(actionId)}` });
    t.same(action.inputs, { note: 'on it' });
  });

  t.test('a refusal keeps Webex’s status and headers for the retry rules, and never the token', async (t) => {
    sim.faults.failRest({ path: '/v1/messages', method: 'POST', status: 429, retryAfterSec: 3, count: 1 });
    const err = await hydra(sdk, { method: 'POST', resource: 'messages', body: { roomId: room.id, text: 'x' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.equal(httpStatus(err), 429);
    t.equal((err as { headers?: Record<string, string> }).headers?.['retry-after'], '3');
    t.notMatch(errorText(err), sim.botToken);
    sim.faults.failRest({ path: '/v1/people/', status: 404, count: 1 });
    t.equal(httpStatus(await hydra(sdk, { resource: 'people/nobody' }).catch((e: unknown) => e)), 404);
  });
});
