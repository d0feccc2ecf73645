/**
 * What a reader is shown of the bot's markdown, as a CommonMark renderer (markdown-it, the one Adaptive
 * Cards' own renderer uses) reads it, raw HTML allowed: the text, and which markup is live in it.
 */
import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';

const md = new MarkdownIt({ html: true, linkify: false });

export interface Rendered {
  /** The text shown, line breaks as `\n`, blocks one after the other. */
  text: string;
  /** Every kind of live markup: `strong`, `em`, `link`, `code_inline`, `heading`, `bullet_list`, `html_inline`, ... */
  markup: string[];
}

export function rendered(markdown: string): Rendered {
  let text = '';
  const markup = new Set<string>();
  const walk = (tokens: Token[]) => {
    for (const token of tokens) {
      if (token.type === 'text' || token.type === 'code_inline') text += token.content;
      if (token.type === 'softbreak' || token.type === 'hardbreak') text += '\n';
      if (token.type !== 'text' && token.type !== 'inline' && !/^(paragraph|softbreak)/.test(token.type)) {
        markup.add(token.type.replace(/_(open|close)$/, ''));
      }
      if (token.children) walk(token.children);
    }
  };
  walk(md.parse(markdown, {}));
  return { text, markup: [...markup].sort() };
}

/** Webex's mention syntax (`<@all>`, `<@personEmail:...>`), which it finds in a message's markdown itself. */
export const MENTION = /<@/;
