import t from 'tap';
import { cardText, inlineCode, markdownText } from '../../src/bot/escape.js';
import { MENTION, rendered } from '../kit/markdown.js';

/** The audit's tester field. */
const AUDIT = 'Red <@all> **team** [login](http://evil.example/phish)';

const HOSTILE = [
  AUDIT,
  '<@personEmail:boss@example.com|Boss> and <@personId:Y2lzY29zcGFyazovL3Vz>',
  '# Heading',
  '## also a heading',
  '> a quote',
  '- a bullet',
  '+ another',
  '* and another',
  '1. numbered',
  '12) numbered too',
  '---',
  '===',
  '***',
  '_emphasis_ and __strong__',
  '~~struck~~',
  '`code` and ``more `code` ``',
  '![image](http://evil.example/x.png)',
  '[ref]: http://evil.example/ref',
  '<http://evil.example/autolink>',
  '<b>bold</b> <img src=x onerror=alert(1)>',
  '&lt;@all&gt; &#42;&#42;x&#42;&#42; &amp;',
  'a \\*backslashed\\* \\<@all> \\',
  '    indented code',
  '| a | b |\n|---|---|\n| c | d |',
  'first line\n# second line heading\n- third line bullet\n> fourth line quote\n1. fifth',
  'trailing hard break  \nnext',
];

const ORDINARY = [
  "Seán O'Brien-Smith Jr.",
  'St. John’s red-team (phase 2)',
  'R&D / AT&T: 10.1.2.0/24, 2026-11-30 09:00',
  'v1.2.3-rc.1 - done!',
];

t.test('markdownText: one line shown exactly as typed, no markup, HTML, link or mention left', async (t) => {
  for (const input of HOSTILE) {
    const out = markdownText(input);
    const shown = rendered(out);
    const asTyped = input.replace(/\s*\n+\s*/g, ' ').trim();
    t.same(shown.markup, [], `${JSON.stringify(input)} -> ${JSON.stringify(out)}: no live markup`);
    t.equal(shown.text, asTyped, `${JSON.stringify(input)}: shown as typed`);
    t.notMatch(out, MENTION, `${JSON.stringify(input)}: nothing Webex would read as a mention`);
  }
});

t.test('markdownText: ordinary names and text go out unchanged', async (t) => {
  for (const input of ORDINARY) t.equal(markdownText(input), input);
  t.equal(markdownText('first_last@example.com'), 'first\\_last@example.com', 'an underscore is escaped, and still reads as typed');
  t.equal(rendered(markdownText('first_last@example.com')).text, 'first_last@example.com');
});

t.test('inlineCode: a code span holding the text as typed, or plain text where a span cannot', async (t) => {
  for (const input of ['deploy', '**x**', '[a](http://x)', '`', 'a`b', '``double``', '`edge`', 'back\\slash', '&lt;']) {
    const out = inlineCode(input);
    t.same(rendered(out), { text: input, markup: ['code_inline'] }, `${JSON.stringify(input)} -> ${out}`);
  }
  for (const input of ['<@all>', 'x<@all>', 'two\nlines', '  ']) {
    const out = inlineCode(input);
    t.same(rendered(out).markup, [], `${JSON.stringify(input)} -> ${JSON.stringify(out)}: plain text`);
    t.notMatch(out, MENTION);
  }
  t.equal(inlineCode('deploy'), '`deploy`');
});

t.test('cardText: line breaks kept, every line shown as typed, nothing live', async (t) => {
  for (const input of [...HOSTILE, ...ORDINARY]) {
    const out = cardText(input);
    const shown = rendered(out);
    t.same(
      shown.markup.filter((m) => m !== 'hardbreak'),
      [],
      `${JSON.stringify(input)} -> ${JSON.stringify(out)}: no live markup`,
    );
    t.equal(shown.text, input.replace(/^[ \t]+/gm, '').replace(/ +\n/g, '\n'), `${JSON.stringify(input)}: shown as typed`);
  }
  for (const input of ORDINARY.slice(0, 2)) t.equal(cardText(input), input, 'ordinary text unchanged');
});
