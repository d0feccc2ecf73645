// A module's command as the dispatcher gets it (src/modules/adapt.ts): its tools on every context,
// and what it hands back checked. Pure logic: the contexts are made here.
import t from 'tap';
import type { CardContext, CommandContext, Reply } from '../../src/bot/command.js';
import { asCommand } from '../../src/modules/adapt.js';
import type { ModuleCommand } from '../../src/modules/api.js';
import { openStorage } from '../../src/storage/index.js';
import { captureLog } from '../kit/log-capture.js';

const log = captureLog();
const storage = await openStorage({ log: log.logger });
t.teardown(() => storage.close());
const deps = { storage, log: log.logger, settings: { TOODLES_MODULE_GREETING: 'hi' }, file: 'team.mjs' };

function contexts() {
  const sent: Array<{ roomId?: string; reply: Reply }> = [];
  const base = {
    sender: { id: 'p1', email: 'alice@example.com', displayName: 'Alice', isBot: false },
    room: { id: 'r1', type: 'direct' as const },
    threadId: 'm1',
    signal: new AbortController().signal,
    reply: async (reply: Reply) => void sent.push({ reply }),
    post: async (roomId: string, reply: Reply) => void sent.push({ roomId, reply }),
  };
  const message: CommandContext = { ...base, args: '', fetchMs: 1 };
  const card: CardContext = { ...base, inputs: { text: 'x' } };
  return { message, card, sent };
}

t.test('outcomes: invalid and denied as said, anything else an answer', async (t) => {
  const { message } = contexts();
  for (const [returned, outcome] of [
    ['invalid', 'invalid'],
    ['denied', 'denied'],
    [undefined, 'ok'],
    ['failed', 'ok'],
    [42, 'ok'],
  ] as const) {
    const m = { keyword: 'x', description: 'x', run: async () => returned } as unknown as ModuleCommand;
    t.equal(await asCommand(m, deps).run(message), outcome, String(returned));
  }
});

t.test('replies and posts are checked before they reach Webex', async (t) => {
  const { message, sent } = contexts();
  const sending = (send: (ctx: Parameters<ModuleCommand['run']>[0]) => Promise<void>) =>
    asCommand({ keyword: 'x', description: 'x', run: send }, deps).run(message);
  await t.rejects(
    sending((ctx) => ctx.reply('text' as unknown as Reply)),
    new TypeError("ctx.reply needs { markdown: 'some text' }"),
  );
  await t.rejects(
    sending((ctx) => ctx.reply({ markdown: '  ' })),
    /ctx\.reply needs/,
  );
  await t.rejects(
    sending((ctx) => ctx.post('r2', { markdown: 'hi', card: 'card' as unknown as Reply['card'] })),
    new TypeError('ctx.post: card must be an object'),
  );
  await sending(async (ctx) => {
    await ctx.reply({ markdown: 'one' });
    await ctx.post('r2', { markdown: 'two', card: { type: 'AdaptiveCard' } });
  });
  t.same(sent, [{ reply: { markdown: 'one' } }, { roomId: 'r2', reply: { markdown: 'two', card: { type: 'AdaptiveCard' } } }]);
});

t.test('a form submit must resolve with a result the dispatcher knows; actions get the tools too', async (t) => {
  const { card } = contexts();
  const withSubmit = (result: unknown) =>
    asCommand(
      {
        keyword: 'note',
        description: 'x',
        run: async () => undefined,
        form: { fields: ['text'], required: [], card: () => ({}), submit: async () => result as never },
        actions: { clear: async (ctx) => ((await ctx.store.delete('k')) ? 'ok' : 'invalid') },
      },
      deps,
    );
  t.same(await withSubmit({ invalid: 'no' }).form?.submit(card), { invalid: 'no' });
  t.same(await withSubmit({ recordedAs: '#1', reply: { markdown: 'ok' }, extra: 1 }).form?.submit(card), {
    recordedAs: '#1',
    reply: { markdown: 'ok' },
  });
  await t.rejects(withSubmit(undefined).form!.submit(card), /form submit must resolve with \{ recordedAs, reply \} or \{ invalid \}/);
  await t.rejects(withSubmit({ recordedAs: '#1' }).form!.submit(card), /form submit reply needs/);
  t.equal(await withSubmit(null).actions?.clear?.(card), 'invalid', 'nothing to clear');
});

t.test(
  'settings: only TOODLES_MODULE_*; logs name the command and file; what the module does to its object later changes nothing',
  async (t) => {
    const { message } = contexts();
    const m: ModuleCommand = {
      keyword: 'x',
      description: 'before',
      async run(ctx) {
        t.equal(ctx.setting('TOODLES_MODULE_GREETING'), 'hi');
        t.equal(ctx.setting('TOODLES_MODULE_OTHER'), undefined);
        t.throws(
          () => ctx.setting('TOODLES_DATABASE_URL'),
          /a module may read only TOODLES_MODULE_\* settings \(asked for TOODLES_DATABASE_URL\)/,
        );
        ctx.log.info('one', { n: 1, event: 'forged', command: 'forged' });
        ctx.log.warn('two');
        ctx.log.error('three');
      },
    };
    const command = asCommand(m, deps);
    m.description = 'after';
    m.keyword = 'y';
    t.equal(command.description, 'before');
    t.equal(command.keyword, 'x');
    await command.run(message);
    const lines = log.lines.filter((l) => l.event === 'module.log');
    t.match(lines, [
      { level: 30, command: 'x', file: 'team.mjs', text: 'one', n: 1 },
      { level: 40, text: 'two' },
      { level: 50, text: 'three' },
    ]);
  },
);
