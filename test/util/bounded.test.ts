import t from 'tap';
import { EventEmitter } from 'node:events';
import { AbortedError, TimeoutError, bounded, waitForEvent } from '../../src/util/bounded.js';

// bounded's timers are unref'd by design (a wait never keeps the daemon alive); the test must.
const keepAlive = setInterval(() => undefined, 1_000);
t.teardown(() => clearInterval(keepAlive));

t.test('bounded resolves, times out, aborts, and tells the work to stop', async (t) => {
  t.equal(await bounded('quick', Promise.resolve(7), { timeoutMs: 50 }), 7);
  let workSignal: AbortSignal | undefined;
  await t.rejects(
    bounded('stuck', (signal) => ((workSignal = signal), new Promise(() => undefined)), { timeoutMs: 20 }),
    TimeoutError,
  );
  t.ok(workSignal?.aborted, 'the work saw the timeout');
  const outer = new AbortController();
  const pending = bounded('stoppable', new Promise(() => undefined), { timeoutMs: 10_000, signal: outer.signal });
  outer.abort();
  await t.rejects(pending, AbortedError);
  await t.rejects(bounded('already', Promise.resolve(1), { timeoutMs: 10, signal: outer.signal }), AbortedError);
  await t.rejects(
    bounded(
      'throws',
      () => {
        throw new Error('sync');
      },
      { timeoutMs: 10 },
    ),
    /sync/,
  );
  await t.rejects(
    bounded('only abort', new Promise(() => undefined), { timeoutMs: Infinity, signal: AbortSignal.timeout(10) }),
    AbortedError,
  );
});

t.test('waitForEvent takes the first emission and removes its listener on timeout', async (t) => {
  const e = new EventEmitter();
  setTimeout(() => e.emit('ready', 'yes'), 5);
  t.equal(await waitForEvent<string>(e, 'ready', { timeoutMs: 1_000 }), 'yes');
  await t.rejects(waitForEvent(e, 'never', { timeoutMs: 10 }), TimeoutError);
  t.equal(e.listenerCount('never'), 0);
});
