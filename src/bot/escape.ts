// Text people typed (form fields, display names, a word they sent), written into what the bot sends:
// it must show as typed and do nothing else. Webex renders a message's markdown and finds mentions in
// it (`<@all>` notifies everyone in the space); Adaptive Cards render their text as markdown too.

/** Emphasis, code, links, images and strikethrough start with these anywhere in a line. */
const INLINE_MARKUP = /[\\`*_[\]~]/g;
/** An entity (`&lt;`) would show as the character it names, not as typed. */
const ENTITY_START = /&(?=#?[a-z0-9]+;)/gi;
/** Headings, quotes, bullets, rules, setext underlines and table rulers start a line with one of these. */
const LINE_START_MARK = /^[#>+=|:-]/gm;
/** A numbered list item: digits, then `.` or `)` and a space (a date or an IP address stays as it is). */
const LINE_START_NUMBER = /^(\d+)([.)])(?=[ \t]|$)/gm;

/** For a Webex message: one line of plain text, with no markup, HTML, link or mention left in it. */
export function markdownText(text: string): string {
  // A line break would let what follows start a heading, a list or a quote of its own.
  const line = text.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').trim();
  // `<` as an entity: behind a backslash `<@all>` would still be there for Webex to find.
  return escapeLineStarts(escapeInline(line, '&lt;'));
}

/**
 * For a Webex message: text as inline code. A code span cannot hold a line break or keep Webex from
 * finding a mention (`<@all>`), so such text goes out as plain text instead (markdownText).
 */
export function inlineCode(text: string): string {
  if (!text.trim() || /[<\r\n\u2028\u2029]/.test(text)) return markdownText(text);
  // A fence longer than any run of backticks inside; a space keeps a backtick at either end off the fence.
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** For an Adaptive Card's TextBlock or fact (Webex renders their markdown: emphasis, links, lists); line breaks stay. */
export function cardText(text: string): string {
  // Indented lines would be code blocks; cards do not show the indentation anyway.
  return escapeLineStarts(escapeInline(text.replace(/^[ \t]+/gm, ''), '\\<'));
}

function escapeInline(text: string, lessThan: string): string {
  return text.replace(INLINE_MARKUP, '\\$&').replace(ENTITY_START, '\\&').replace(/</g, lessThan);
}

function escapeLineStarts(text: string): string {
  return text.replace(LINE_START_MARK, '\\$&').replace(LINE_START_NUMBER, '$1\\$2');
}
