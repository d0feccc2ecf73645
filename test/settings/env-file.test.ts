/**
 * The settings file is read as systemd's EnvironmentFile= reads it. Every expected value below is what
 * systemd 252 itself handed a unit for the same bytes (EnvironmentFile= on each file, the unit printing
 * its environment), so the parser is held to systemd, not to our reading of its manual.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvFileError, parseEnvFile, readEnvFile } from '../../src/settings/env-file.js';

const parse = (text: string | Buffer) => parseEnvFile(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'));

const MANY = [
  'PLAIN=hello world   ',
  '  LEADING=  spaced value  ',
  '# a comment',
  '; another comment',
  'INLINE=value # not a comment',
  "SQ='single # $HOME \\n'",
  'DQ="double \\"q\\" \\$ \\` \\\\ \\n end"',
  'CONT=first \\',
  'second',
  'DQCONT="one \\',
  'two"',
  "SQNL='line1",
  "line2'",
  'ADJ="a"  \'b\' c',
  'MID=a"b"c',
  'ESC=a\\b\\"c\\\\d',
  'export EXPORTED=1',
  'BAD NAME=2',
  '1DIGIT=3',
  'NOEQUALS',
  ' KEYSP =4',
  'EMPTY=',
  'EMPTYQ=""',
  'DUP=first',
  'DUP=second',
  'COMMENTCONT=x',
  '#comment \\',
  'HIDDEN=yes',
  'TAB=\ttabbed\t',
  'SEMI=a;b',
  'VAR=$PLAIN ${PLAIN}',
  'NONL=end',
].join('\n');

t.test('what systemd 252 made of a file of tricky lines', async (t) => {
  const file = parse(MANY);
  t.same(
    { ...file.values },
    {
      PLAIN: 'hello world',
      LEADING: 'spaced value',
      INLINE: 'value # not a comment',
      SQ: 'single # $HOME \\n',
      DQ: 'double "q" $ ` \\ \\n end',
      CONT: 'first second',
      DQCONT: 'one two',
      SQNL: 'line1\nline2',
      ADJ: 'abc',
      MID: 'a"b"c',
      ESC: 'ab"c\\d',
      KEYSP: '4',
      EMPTY: '',
      EMPTYQ: '',
      DUP: 'second',
      COMMENTCONT: 'x',
      TAB: 'tabbed',
      SEMI: 'a;b',
      VAR: '$PLAIN ${PLAIN}',
      NONL: 'end',
    },
  );
  t.notOk('HIDDEN' in file.values, 'a comment ending in \\ swallows the next line');
  t.same(file.lineOf.DUP, 25, 'the line of the last assignment');
  t.same(file.lineOf.CONT, 8, 'a continued value: the line it starts on');
  t.same(file.ignored, [
    { line: 17, why: 'systemd does not take "export": write EXPORTED=... without it' },
    { line: 18, why: 'not a variable name (letters, digits and _, not starting with a digit)' },
    { line: 19, why: 'not a variable name (letters, digits and _, not starting with a digit)' },
    { line: 20, why: 'no "=": not a setting' },
  ]);
});

t.test('a quote left open runs to the end of the file', async (t) => {
  t.same({ ...parse('A=1\nUNTERM="open\nLAST=1\nNONL=end').values }, { A: '1', UNTERM: 'open\nLAST=1\nNONL=end' });
});

t.test('CRLF line ends, and a backslash before one', async (t) => {
  t.same({ ...parse('CR=a\r\nB=2\r\nBS=x\\\r\nY=3\n').values }, { CR: 'a', B: '2', BS: 'x', Y: '3' });
});

t.test('control characters are kept; a name or value that is not UTF-8 refuses the file, naming the line', async (t) => {
  t.same({ ...parse('CTRL=a\u0001b\nOK=1\n').values }, { CTRL: 'a\u0001b', OK: '1' });
  const bad = Buffer.concat([Buffer.from('OK=1\nBADUTF='), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]);
  t.throws(() => parse(bad), new EnvFileError(2, 'the value of BADUTF is not valid UTF-8 (systemd refuses the whole file)'));
  const inComment = Buffer.concat([Buffer.from('# a stray byte '), Buffer.from([0xff]), Buffer.from(' in a comment\nA=café\n')]);
  t.same({ ...parse(inComment).values }, { A: 'café' }, 'UTF-8 values; a comment is not checked');
});

t.test('a line without "=" at the end of the file is skipped; a key named __proto__ is only a key', async (t) => {
  const file = parse('A=1\n__proto__=x\nTRAILING');
  t.same(file.values.__proto__, 'x');
  t.same(file.ignored, [{ line: 3, why: 'no "=": not a setting' }]);
  t.same(parse('').values, {});
  t.same({ ...parse('A=1\n   \n\t\n').values }, { A: '1' });
});

t.test('the text of an ignored line is never quoted (it may be a pasted secret)', async (t) => {
  const secret = 'Bearer s3cr3t-t0ken=abc';
  const file = parse(`${secret}\nplainsecretwithoutequals\n`);
  t.equal(file.ignored.length, 2);
  t.notMatch(JSON.stringify(file), /s3cr3t|plainsecret/);
});

t.test('readEnvFile reads a file; a missing one fails with ENOENT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-envfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'toodles.env'), 'TOODLES_LOG_LEVEL="debug"\n');
  t.same({ ...readEnvFile(join(dir, 'toodles.env')).values }, { TOODLES_LOG_LEVEL: 'debug' });
  t.throws(() => readEnvFile(join(dir, 'missing.env')), { code: 'ENOENT' });
});
