/**
 * Scraping must not disturb the bot. The mechanism is one rendering of /metrics served for a second,
 * so a hundred scrapers a second cost about what one does: that is asserted here, with an injected
 * clock. The daemon under 100 scrapes/s for 10 s (bench/scrape.ts's measurement, once) must then
 * serve every scrape and answer every message; its latencies, with and without the scrapers, are
 * printed, not asserted: how much a shared machine's noise moves them is not the bot's doing.
 * `npm run bench:scrape` compares them over more rounds.
 */
import t from 'tap';
import { measureScrapeLoad } from '../../bench/scrape.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { ensureBuilt } from '../kit/spawn-daemon.js';

ensureBuilt();

t.test('one rendering is served for a second, however many scrapers ask', async (t) => {
  const metrics = new Metrics(() => ({ state: 'online', since: 0, reconnects: 0 }));
  const first = metrics.render(1_000);
  const scrapes = Array.from({ length: 100 }, (_, i) => metrics.render(1_000 + i * 10));
  t.ok(scrapes.every((s) => s === first), '100 scrapes within the second: the same rendering');
  const next = metrics.render(2_000);
  t.not(next, first, 'a second later: rendered afresh');
  t.match(await next, /toodles_reconnects_total/);
});

t.test('100 scrapes/s for 10 s: every scrape served, every message answered', async (t) => {
  const r = await measureScrapeLoad({ rounds: 1, rate: 20, scrapesPerS: 100, phaseMs: 10_000 }, (line) => t.comment(line));
  t.comment(
    `${r.loaded.scrapesPerS.toFixed(0)} scrapes/s served; median message latency ${r.baseline.medianMs.toFixed(1)} ms unloaded, ` +
      `${r.loaded.medianMs.toFixed(1)} ms under load`,
  );
  t.equal(r.loaded.scrapeFailures, 0, 'no scrape failed and no message was lost');
  t.ok(r.phases.every((p) => p.messages > 0), 'messages flowed in every phase');
  t.ok(r.phases.some((p) => p.loaded && p.scrapes > 0), 'the scrapers ran');
});
