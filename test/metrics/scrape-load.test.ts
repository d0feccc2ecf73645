/**
 * Scraping must not disturb the bot. The mechanism is one rendering of /metrics served for a second,
 * so a hundred scrapers a second cost about what one does: asserted here with an injected clock. Then
 * the daemon process under a thousand scrapes while messages flow must serve every scrape and answer
 * every message. What scraping does to message latency is a measurement, not an assertion (a shared
 * machine's noise moves it more than scraping does): `npm run bench:scrape` compares it with and
 * without scrapers in the same run.
 */
import t from 'tap';
import { startDaemonProcess } from '../../bench/scrape.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { startSimulator } from '../../src/simulator/index.js';
import { sleep } from '../kit/wait.js';

t.test('one rendering is served for a second, however many scrapers ask', async (t) => {
  const metrics = new Metrics(() => ({ state: 'online', since: 0, reconnects: 0 }));
  const first = metrics.render(1_000);
  const scrapes = Array.from({ length: 100 }, (_, i) => metrics.render(1_000 + i * 10));
  t.ok(
    scrapes.every((s) => s === first),
    '100 scrapes within the second: the same rendering',
  );
  const next = metrics.render(2_000);
  t.not(next, first, 'a second later: rendered afresh');
  t.match(await next, /toodles_reconnects_total/);
});

t.test('a thousand scrapes while messages flow: every scrape served, every message answered', async (t) => {
  const sim = await startSimulator({ port: 0 });
  const daemon = await startDaemonProcess(sim);
  t.teardown(async () => {
    await daemon.stop();
    await sim.stop();
  });
  const room = sim.directRoom('load@example.com');
  const statuses: number[] = [];
  // Ten scrapers, a hundred scrapes each, back to back.
  const scrapers = Array.from({ length: 10 }, async () => {
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${daemon.base}/metrics`);
      await r.text();
      statuses.push(r.status);
    }
  });
  const answers: Promise<unknown>[] = [];
  for (let i = 0; i < 100; i++) {
    const asked = sim.postMessage({ from: 'load@example.com', roomId: room.id, text: 'ping' });
    answers.push(sim.waitForBotMessage((m) => m.parentId === asked.id, 30_000));
    await sleep(20);
  }
  await Promise.all(scrapers);
  const answered = await Promise.allSettled(answers);
  t.equal(statuses.length, 1_000, 'a thousand scrapes made');
  t.ok(
    statuses.every((s) => s === 200),
    'every scrape served',
  );
  t.equal(answered.filter((a) => a.status === 'fulfilled').length, 100, 'every message answered');
});
