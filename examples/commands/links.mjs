// The team's favourite links: `links` lists them, `links <name>` gives one, `links add` (a form, or
// `links add <name> <url> [what it is]`) and `links remove <name>`. Kept in the command's own
// store, so with a shared database every instance sees the same links.
import { URL } from 'node:url';

export const apiVersion = 1;

const USAGE =
  'Say `links` for the list, `links <name>` for one, `links add <name> <url> [what it is]` (or `links add` for a form), `links remove <name>`.';
const SUBCOMMANDS = ['add', 'list', 'remove'];
const NAME = /^[\p{L}\p{N}][\p{L}\p{N}._-]{0,39}$/u;

const card = () => ({
  type: 'AdaptiveCard',
  version: '1.3',
  body: [
    { type: 'TextBlock', text: 'Add a link', weight: 'Bolder', size: 'Medium' },
    { type: 'Input.Text', id: 'name', label: 'Name (one word)', isRequired: true, maxLength: 40 },
    { type: 'Input.Text', id: 'url', label: 'URL', style: 'Url', isRequired: true },
    { type: 'Input.Text', id: 'description', label: 'What it is', maxLength: 200 },
  ],
  actions: [{ type: 'Action.Submit', title: 'Save', data: { callback: 'links' } }],
});

/** @type {import('toodles/command-api').ModuleCommand} */
export default {
  keyword: 'links',
  description: "the team's favourite links: list, add, remove",
  help: USAGE,
  async run(ctx) {
    const [sub = '', name = '', url = '', ...what] = ctx.args.split(/\s+/).filter(Boolean);
    switch (sub.toLowerCase()) {
      case '':
      case 'list':
        return list(ctx);
      case 'add':
        if (!name) return ctx.reply({ markdown: 'Add a link: open this form in a Webex app that shows cards.', card: card() });
        return add(ctx, { name, url, description: what.join(' ') });
      case 'remove':
        return remove(ctx, name);
      default:
        return show(ctx, sub);
    }
  },
  form: {
    fields: ['name', 'url', 'description'],
    required: ['name', 'url'],
    card,
    async submit(ctx) {
      const { link, invalid } = checked(ctx, ctx.inputs);
      if (!link) return { invalid };
      const replaced = await save(ctx, link);
      return { recordedAs: link.name, reply: { markdown: saved(ctx, link, replaced) } };
    },
  },
};

async function list(ctx) {
  const links = await ctx.store.list();
  if (!links.length) return ctx.reply({ markdown: `No links yet. ${USAGE}` });
  await ctx.reply({ markdown: links.map(({ value }) => `- ${line(ctx, value)}`).join('\n') });
}

async function show(ctx, name) {
  const link = await ctx.store.get(name.toLowerCase());
  if (!link) {
    await ctx.reply({ markdown: `There is no link ${ctx.escape.inlineCode(name)}. ${USAGE}` });
    return 'invalid';
  }
  await ctx.reply({ markdown: line(ctx, link) });
}

async function add(ctx, input) {
  const { link, invalid } = checked(ctx, input);
  if (!link) return (await ctx.reply({ markdown: invalid }), 'invalid');
  const replaced = await save(ctx, link);
  await ctx.reply({ markdown: saved(ctx, link, replaced) });
}

async function remove(ctx, name) {
  if (!name || !(await ctx.store.delete(name.toLowerCase()))) {
    await ctx.reply({ markdown: `There is no link ${name ? ctx.escape.inlineCode(name) : 'named'} to remove. ${USAGE}` });
    return 'invalid';
  }
  ctx.log.info('link removed', { link: name.toLowerCase(), by: ctx.sender.email });
  await ctx.reply({ markdown: `Removed ${ctx.escape.inlineCode(name)}.` });
}

/** `{ link }` to keep, or `{ invalid: why not }`: a one-word name that is not a subcommand, and a web address. */
function checked(ctx, { name = '', url = '', description = '' }) {
  const shown = ctx.escape.inlineCode(name);
  if (!NAME.test(name)) return { invalid: `${shown} cannot be a link's name: one word of letters, digits, '.', '_' or '-', at most 40.` };
  if (SUBCOMMANDS.includes(name.toLowerCase())) return { invalid: `${shown} is a word of the command itself; choose another name.` };
  let href;
  try {
    href = new URL(url.trim());
  } catch {
    return { invalid: `${ctx.escape.inlineCode(url || '(none)')} is not a web address (https://...).` };
  }
  if (href.protocol !== 'https:' && href.protocol !== 'http:') return { invalid: 'Only http and https links can be kept.' };
  const link = {
    name,
    url: href.href,
    description: description.trim().slice(0, 200),
    addedBy: ctx.sender.email,
    addedAt: new Date().toISOString(),
  };
  return { link };
}

/** Stores the link under its name in lower case; resolves true when it replaced one. */
async function save(ctx, link) {
  const key = link.name.toLowerCase();
  const replaced = (await ctx.store.get(key)) !== undefined;
  await ctx.store.set(key, link);
  return replaced;
}

function saved(ctx, link, replaced) {
  return `${replaced ? 'Replaced' : 'Saved'} ${ctx.escape.inlineCode(link.name)}: ${line(ctx, link)}`;
}

/** `[name](url): what it is`; the address made safe as a link target (no parenthesis or space to end it early). */
function line(ctx, { name, url, description }) {
  const target = url.replace(/[()\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return `[${ctx.escape.markdownText(name)}](${target})${description ? `: ${ctx.escape.markdownText(description)}` : ''}`;
}
