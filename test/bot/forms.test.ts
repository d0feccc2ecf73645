import t from 'tap';
import type { CardContext, Form, Reply } from '../../src/bot/command.js';
import { Forms, type FormsDeps, type SubmitRun } from '../../src/bot/forms.js';
import type { Submission } from '../../src/storage/index.js';
import type { CardAction } from '../../src/webex/types.js';
import { captureLog } from '../kit/log-capture.js';

const form: Form = {
  fields: ['what'],
  required: ['what'],
  card: () => ({ type: 'AdaptiveCard', version: '1.3', body: [] }),
  submit: async (ctx) => ({ recordedAs: `"${ctx.inputs.what}"`, reply: { markdown: 'noted' } }),
};
const command = { keyword: 'note', description: 'a note', run: async () => undefined, form };

/** Storage in a map; `down` makes every call reject as a database away would. */
function fakeStorage() {
  const rows = new Map<string, Submission>();
  const state = { down: false };
  const up = () => {
    if (state.down) throw new Error('database away');
  };
  const storage: FormsDeps['storage'] = {
    submission: async (id) => (up(), rows.get(id)),
    claimSubmission: async (claim) => {
      up();
      if (rows.has(claim.cardMessageId)) return false;
      rows.set(claim.cardMessageId, claim);
      return true;
    },
    recordSubmission: async (s) => void (up(), rows.set(s.cardMessageId, s)),
    releaseSubmission: async (id) => void (up(), rows.delete(id)),
  };
  return { storage, rows, state };
}

function setUp() {
  const { storage, rows, state } = fakeStorage();
  const deleted: string[] = [];
  const forms = new Forms({
    api: { deleteMessage: async (id) => void deleted.push(id) },
    storage,
    log: captureLog().logger,
    handlerTimeoutMs: 1000,
  });
  return { forms, rows, state, deleted };
}

function submitting(inputs: Record<string, unknown>) {
  const replies: Reply[] = [];
  const run: SubmitRun = {
    sender: { id: 'p1', email: 'alice@example.com', displayName: 'Alice', isBot: false },
    room: { id: 'room-a', type: 'group' },
    threadId: 'card-1',
    ref: 'ref1',
  };
  const ctx: CardContext = {
    ...run,
    threadId: 'card-1',
    signal: new AbortController().signal,
    inputs: {},
    reply: async (r) => void replies.push(r),
    post: async () => undefined,
  };
  const action: CardAction = { id: 'a1', messageId: 'card-1', roomId: 'room-a', personId: 'p1', inputs: { callback: 'note', ...inputs } };
  return { run, ctx, action, replies };
}

t.test('one action on a card at a time, even after one failed', async (t) => {
  const { forms } = setUp();
  const order: string[] = [];
  let finishFirst = () => {};
  const first = forms.oneAtATime(
    'card-1',
    () => new Promise<void>((resolve, reject) => (finishFirst = () => (order.push('first'), reject(new Error('boom'))))),
  );
  const second = forms.oneAtATime('card-1', async () => void order.push('second'));
  const other = forms.oneAtATime('card-2', async () => void order.push('other card'));
  await other;
  finishFirst();
  await t.rejects(first, /boom/);
  await second;
  t.same(order, ['other card', 'first', 'second']);
});

t.test('a submit is recorded once; the card goes and the answer says who and what', async (t) => {
  const { forms, rows, deleted } = setUp();
  const { run, ctx, action, replies } = submitting({ what: ' lunch ' });
  t.equal(await forms.submit(ctx, run, { command, form, action, earlier: undefined }), 'ok');
  t.equal(rows.get('card-1')?.recordedAs, '"lunch"', 'inputs trimmed');
  t.same(deleted, ['card-1']);
  t.match(replies[0]?.markdown, /^Submitted by Alice: recorded as "lunch"\./);
  const earlier = await forms.earlierSubmission('card-1');
  t.equal(await forms.submit(ctx, run, { command, form, action, earlier }), 'invalid');
  t.match(replies[1]?.markdown, /^Already recorded as "lunch" \(submitted by Alice\)/);
});

t.test('damaged or missing inputs are answered and nothing is claimed', async (t) => {
  const { forms, rows } = setUp();
  const damaged = submitting({ what: 42 });
  t.equal(await forms.submit(damaged.ctx, damaged.run, { command, form, action: damaged.action, earlier: undefined }), 'invalid');
  t.match(damaged.replies[0]?.markdown, /came back damaged \(what\)/);
  const blank = submitting({ what: '  ' });
  t.equal(await forms.submit(blank.ctx, blank.run, { command, form, action: blank.action, earlier: undefined }), 'invalid');
  t.match(blank.replies[0]?.markdown, /^Please fill in: \*\*what\*\*/);
  t.equal(rows.size, 0);
});

t.test('a card another submit already recorded: the answer moves beside that one', async (t) => {
  const { forms, rows } = setUp();
  rows.set('card-1', {
    cardMessageId: 'card-1',
    command: 'note',
    recordedAs: '"tea"',
    byName: 'Bob',
    at: 1,
    roomId: 'room-b',
    roomType: 'direct',
    threadId: 'thread-b',
  });
  const { run, ctx, action, replies } = submitting({ what: 'lunch' });
  t.equal(await forms.submit(ctx, run, { command, form, action, earlier: undefined }), 'invalid');
  t.same({ room: run.room, threadId: run.threadId }, { room: { id: 'room-b', type: 'direct' }, threadId: 'thread-b' });
  t.match(replies[0]?.markdown, /^Already recorded as "tea" \(submitted by Bob\)/);
});

t.test('with the database away, a double submit is still caught from memory', async (t) => {
  const { forms, state } = setUp();
  state.down = true;
  const { run, ctx, action } = submitting({ what: 'lunch' });
  t.equal(await forms.submit(ctx, run, { command, form, action, earlier: undefined }), 'ok');
  t.equal((await forms.earlierSubmission('card-1'))?.recordedAs, '"lunch"');
});
