// What `toodles new-command` writes: a working command module and its test, for Node's own test
// runner (`node --test`), so neither needs anything installed beside toodles.
import { API_VERSION } from './api.js';

export function starterModule(keyword: string, withForm: boolean): string {
  const header = `// \`${keyword}\`: a toodles command module, written by \`toodles new-command\`. Change it, run its test
// (node --test ${keyword}.test.mjs), then install it as root and load it:
//   install -m 0644 ${keyword}.mjs /etc/toodles/commands.d/ && systemctl reload toodles
// The API is described in toodles' README ("Writing a command") and typed in toodles/command-api.
export const apiVersion = ${API_VERSION};
`;
  if (!withForm) {
    return `${header}
/** @type {import('toodles/command-api').ModuleCommand} */
export default {
  keyword: '${keyword}',
  description: 'says hello (one line: what help shows)',
  help: 'Say \`${keyword}\`, or \`${keyword} <a name>\`.',
  async run(ctx) {
    const name = ctx.args.trim() || ctx.sender.displayName;
    // The command's own store: JSON values, kept across restarts (and shared by instances with a database).
    const count = Number((await ctx.store.get('greetings')) ?? 0) + 1;
    await ctx.store.set('greetings', count);
    // What people typed goes out only through ctx.escape: shown as typed, never a mention or a link.
    await ctx.reply({ markdown: 'Hello, ' + ctx.escape.markdownText(name) + '! (greeting number ' + count + ')' });
  },
};
`;
  }
  return `${header}
const card = () => ({
  type: 'AdaptiveCard',
  version: '1.3',
  body: [
    { type: 'TextBlock', text: 'Report something', weight: 'Bolder', size: 'Medium' },
    { type: 'Input.Text', id: 'summary', label: 'Summary', isRequired: true, maxLength: 200 },
    { type: 'Input.Text', id: 'details', label: 'Details', isMultiline: true },
  ],
  // callback: '${keyword}' brings the submit back to this command's form.submit.
  actions: [{ type: 'Action.Submit', title: 'Submit', data: { callback: '${keyword}' } }],
});

/** @type {import('toodles/command-api').ModuleCommand} */
export default {
  keyword: '${keyword}',
  description: 'records a report from a form (one line: what help shows)',
  help: 'Say \`${keyword}\` for the form; \`${keyword} list\` shows what was recorded.',
  async run(ctx) {
    if (ctx.args.trim() === 'list') {
      const reports = await ctx.store.list('report/');
      return ctx.reply({ markdown: reports.map(({ value }) => line(ctx, value)).join('\\n') || 'Nothing recorded yet.' });
    }
    await ctx.reply({ markdown: 'Fill in this form (in a Webex app that shows cards).', card: card() });
  },
  form: {
    fields: ['summary', 'details'],
    // toodles answers a submit that leaves one of these blank by itself; submit does not run.
    required: ['summary'],
    card,
    async submit(ctx) {
      const { summary, details = '' } = ctx.inputs;
      if (summary.trim().length < 3) return { invalid: 'Say a little more in the summary.' };
      const number = Number((await ctx.store.get('count')) ?? 0) + 1;
      await ctx.store.set('count', number);
      await ctx.store.set('report/' + String(number).padStart(6, '0'), { number, summary, details, by: ctx.sender.email });
      // The form is then deleted; a second submit of it is answered "already recorded as #n".
      return { recordedAs: '#' + number, reply: { markdown: 'Recorded #' + number + ': ' + ctx.escape.markdownText(summary) } };
    },
  },
};

function line(ctx, report) {
  return '- #' + report.number + ' ' + ctx.escape.markdownText(report.summary) + ' (' + ctx.escape.markdownText(report.by) + ')';
}
`;
}

export function starterTest(keyword: string, withForm: boolean): string {
  const cases = withForm
    ? `test('${keyword} sends its form', async () => {
  const { ctx, replies } = fakeContext();
  await command.run(ctx);
  assert.equal(replies[0].card.type, 'AdaptiveCard');
});

test('${keyword} records a submit, refuses a thin one, and lists what it recorded', async () => {
  const { ctx, replies } = fakeContext({ inputs: { summary: 'Printer on fire', details: '3rd floor' } });
  assert.deepEqual(await command.form.submit(ctx), { recordedAs: '#1', reply: { markdown: 'Recorded #1: Printer on fire' } });
  assert.deepEqual(await command.form.submit({ ...ctx, inputs: { summary: 'x' } }), { invalid: 'Say a little more in the summary.' });
  await command.run({ ...ctx, args: 'list' });
  assert.equal(replies[0].markdown, '- #1 Printer on fire (alice@example.com)');
});
`
    : `test('${keyword} greets the sender, or the name given, and counts', async () => {
  const { ctx, replies } = fakeContext();
  await command.run(ctx);
  await command.run({ ...ctx, args: 'Bob' });
  assert.deepEqual(
    replies.map((r) => r.markdown),
    ['Hello, Alice! (greeting number 1)', 'Hello, Bob! (greeting number 2)'],
  );
});
`;
  return `// The test of ${keyword}.mjs, for Node's own test runner: node --test ${keyword}.test.mjs
// toodles does not load this file (a name ending in .test.mjs is never a module).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import command, { apiVersion } from './${keyword}.mjs';

/** What toodles hands a handler, in memory: replies collected, the store a Map of JSON copies. */
function fakeContext(over = {}) {
  const data = new Map();
  const replies = [];
  const ctx = {
    sender: { id: 'person-1', email: 'alice@example.com', displayName: 'Alice', isBot: false },
    room: { id: 'room-1', type: 'direct' },
    threadId: 'message-1',
    signal: new AbortController().signal,
    args: '',
    inputs: {},
    reply: async (reply) => void replies.push(reply),
    post: async () => undefined,
    store: {
      get: async (key) => data.get(key),
      set: async (key, value) => void data.set(key, JSON.parse(JSON.stringify(value))),
      delete: async (key) => data.delete(key),
      list: async (prefix = '') =>
        [...data.keys()]
          .filter((key) => key.startsWith(prefix))
          .sort()
          .map((key) => ({ key, value: data.get(key) })),
    },
    log: { info() {}, warn() {}, error() {} },
    setting: () => undefined,
    // toodles' own make typed text inert; plain text comes through them unchanged.
    escape: { markdownText: (text) => text, inlineCode: (text) => '\`' + text + '\`', cardText: (text) => text },
    ...over,
  };
  return { ctx, replies };
}

test('it is a command module toodles can load', () => {
  assert.equal(apiVersion, ${API_VERSION});
  assert.equal(command.keyword, '${keyword}');
  assert.equal(typeof command.run, 'function');
});

${cases}`;
}
