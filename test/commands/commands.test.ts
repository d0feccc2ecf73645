import t from 'tap';
import { startHarness } from '../kit/daemon-harness.js';

t.test('the bot answers commands through the real SDK and the simulator', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const { sim } = h;
  const alice = 'alice@example.com';
  const direct = sim.directRoom(alice);

  await t.test('ping replies pong with the round trip, in the thread of the message', async (t) => {
    const asked = sim.postMessage({ from: alice, roomId: direct.id, text: 'ping' });
    const reply = await sim.waitForBotMessage((m) => m.parentId === asked.id, 5_000);
    t.match(reply.markdown ?? reply.text, /^pong \(Webex round trip \d+ ms\)$/);
    t.equal(reply.roomId, direct.id);
  });

  await t.test('help lists every command with a description', async (t) => {
    const asked = sim.postMessage({ from: alice, roomId: direct.id, text: 'help' });
    const reply = await sim.waitForBotMessage((m) => m.parentId === asked.id, 5_000);
    for (const name of ['help', 'ping', 'status']) t.match(reply.markdown, new RegExp(`\`${name}\`: \\w`));
  });

  await t.test('status shows uptime, state, reconnects and version, with a refresh card', async (t) => {
    const asked = sim.postMessage({ from: alice, roomId: direct.id, text: 'status' });
    const reply = await sim.waitForBotMessage((m) => m.parentId === asked.id, 5_000);
    t.match(reply.markdown, /\*\*Version\*\*: \d+\.\d+\.\d+/);
    t.match(reply.markdown, /\*\*Uptime\*\*: /);
    t.match(reply.markdown, /\*\*Connection\*\*: online/);
    t.match(reply.markdown, /\*\*Reconnects\*\*: 0/);
    t.equal(reply.attachments?.length, 1, 'carries an adaptive card');

    await t.test('submitting the card reaches the status handler', async (t) => {
      sim.submitCard({ from: alice, cardMessageId: reply.id, inputs: { callback: 'status.refresh' } });
      // Threads are one level deep: the answer joins the thread the card is in.
      const refreshed = await sim.waitForBotMessage((m) => m.parentId === asked.id && m.id !== reply.id, 5_000);
      t.match(refreshed.markdown, /\*\*Connection\*\*: online/);
      t.ok(h.logs.some((l) => l.event === 'card.received' && l.command === 'status'));
    });
  });

  await t.test('a card the bot does not know gets a clear answer', async (t) => {
    const asked = sim.postMessage({ from: alice, roomId: direct.id, text: 'status' });
    const card = await sim.waitForBotMessage((m) => m.parentId === asked.id, 5_000);
    sim.submitCard({ from: alice, cardMessageId: card.id, inputs: { callback: 'launch-rockets' } });
    const answer = await sim.waitForBotMessage((m) => m.parentId === asked.id && m.id !== card.id, 5_000);
    t.match(answer.markdown, /not one I can act on/);
  });

  await t.test('unknown text points at help', async (t) => {
    const asked = sim.postMessage({ from: alice, roomId: direct.id, text: 'deploy the thing' });
    const reply = await sim.waitForBotMessage((m) => m.parentId === asked.id, 5_000);
    t.match(reply.markdown, /I don't know `deploy`\. Say `help`/);
  });

  await t.test('in a group room the mention prefix is understood, and "toodles ping" works too', async (t) => {
    sim.addPerson({ email: 'bob@example.com', displayName: 'Bob' });
    const group = sim.groupRoom('Incident 42', [alice, 'bob@example.com']);
    const mention = sim.postMessage({ from: 'bob@example.com', roomId: group.id, text: 'ping', mentionBot: true });
    const r1 = await sim.waitForBotMessage((m) => m.parentId === mention.id, 5_000);
    t.match(r1.markdown, /^pong/);
    const named = sim.postMessage({ from: alice, roomId: direct.id, text: 'toodles ping' });
    const r2 = await sim.waitForBotMessage((m) => m.parentId === named.id, 5_000);
    t.match(r2.markdown, /^pong/);
  });

  await t.test('a reply to a message inside a thread goes to the thread root', async (t) => {
    const root = sim.postMessage({ from: alice, roomId: direct.id, text: 'hello' });
    await sim.waitForBotMessage((m) => m.parentId === root.id, 5_000);
    const inThread = sim.postMessage({ from: alice, roomId: direct.id, text: 'ping', parentId: root.id });
    const reply = await sim.waitForBotMessage((m) => m.parentId === root.id && /pong/.test(m.markdown ?? ''), 5_000);
    t.equal(reply.parentId, root.id);
    t.not(reply.parentId, inThread.id);
  });

  await t.test('the bot never answers its own messages', async (t) => {
    const before = sim.botMessages().length;
    const botPost = sim.postMessage({ from: sim.bot.email, roomId: direct.id, text: 'ping' });
    // A later message proves the first one was seen and passed over, not merely slow.
    const probe = sim.postMessage({ from: alice, roomId: direct.id, text: 'ping' });
    await sim.waitForBotMessage((m) => m.parentId === probe.id, 5_000);
    t.equal(sim.repliesTo(botPost.id).length, 0);
    t.equal(sim.botMessages().length, before + 2, 'its own post and the answer to the probe, nothing else');
  });
});
