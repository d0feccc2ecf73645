/**
 * A settings file read the way systemd's EnvironmentFile= reads it (systemd 252, env-file.c), so that a
 * reload and `toodles config check` see exactly what the next start will. No npm package does: dotenv
 * and Node's own util.parseEnv end a value at ` #`, take `export NAME=`, and know no `\` continuation.
 *
 * The rules, each checked against systemd 252 itself (test/settings/env-file.test.ts):
 * - a line is NAME=VALUE; blanks around both are dropped; a line starting with `#` or `;` is a comment
 *   (a `\` at its end continues the comment onto the next line); a line with no `=` is skipped;
 * - unquoted, `\` takes the next character as it is, `\` at the end of a line joins the next, and `#`
 *   is an ordinary character;
 * - '...' keeps everything up to the next `'`, newlines included; "..." does too, except that `\"`,
 *   `\\`, `` \` `` and `\$` lose their backslash and `\` at a line's end joins the next; quoted and
 *   unquoted pieces run together (`"a" 'b' c` is `abc`); a quote left open runs to the end of the file;
 * - no `$VAR` expansion; the last assignment of a name wins;
 * - a name that is not letters, digits and `_` (or starts with a digit; `export NAME` included) is
 *   ignored; a name or value that is not UTF-8 makes systemd refuse the whole file.
 */
import { readFileSync } from 'node:fs';

export interface EnvFile {
  values: Record<string, string>;
  /** The line each name was last assigned on. */
  lineOf: Record<string, number>;
  /** Lines systemd skips or ignores, with why; their text is never quoted (a pasted secret stays out of logs). */
  ignored: Array<{ line: number; why: string }>;
}

/** A file systemd would refuse whole (it does not start the unit). */
export class EnvFileError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = 'EnvFileError';
  }
}

const WHITESPACE = ' \t\n\r';
const NEWLINE = '\n\r';
const COMMENT = '#;';
const UNESCAPED_IN_DOUBLE_QUOTES = '"\\`$';
const utf8 = new TextDecoder('utf-8', { fatal: true });

type State = 'preKey' | 'key' | 'preValue' | 'value' | 'valueEscape' | 'single' | 'double' | 'doubleEscape' | 'comment' | 'commentEscape';

export function readEnvFile(path: string): EnvFile {
  return parseEnvFile(readFileSync(path));
}

/** Parses byte by byte (as latin1), as systemd does: UTF-8 is checked per name and value, like systemd's. */
export function parseEnvFile(bytes: Buffer): EnvFile {
  const text = bytes.toString('latin1');
  // Null prototypes: a line may well assign __proto__.
  const file: EnvFile = {
    values: Object.create(null) as Record<string, string>,
    lineOf: Object.create(null) as Record<string, number>,
    ignored: [],
  };
  let state: State = 'preKey';
  let key = '';
  let value = '';
  let keyEnd = -1; // where trailing blanks of the key start, -1 when none
  let valueEnd = -1; // likewise for an unquoted value
  let line = 1;
  let keyLine = 1;

  const push = () => {
    assign(file, keyEnd >= 0 ? key.slice(0, keyEnd) : key, value, keyLine);
    key = '';
    value = '';
  };

  for (const c of text) {
    switch (state) {
      case 'preKey':
        if (COMMENT.includes(c)) state = 'comment';
        else if (!WHITESPACE.includes(c)) {
          state = 'key';
          key = c;
          keyEnd = -1;
          keyLine = line;
        }
        break;
      case 'key':
        if (NEWLINE.includes(c)) {
          state = 'preKey';
          file.ignored.push({ line: keyLine, why: 'no "=": not a setting' });
          key = '';
        } else if (c === '=') {
          state = 'preValue';
          valueEnd = -1;
        } else {
          if (!WHITESPACE.includes(c)) keyEnd = -1;
          else if (keyEnd < 0) keyEnd = key.length;
          key += c;
        }
        break;
      case 'preValue':
        if (NEWLINE.includes(c)) {
          state = 'preKey';
          push();
        } else if (c === "'") state = 'single';
        else if (c === '"') state = 'double';
        else if (c === '\\') state = 'valueEscape';
        else if (!WHITESPACE.includes(c)) {
          state = 'value';
          value += c;
        }
        break;
      case 'value':
        if (NEWLINE.includes(c)) {
          state = 'preKey';
          if (valueEnd >= 0) value = value.slice(0, valueEnd);
          push();
        } else if (c === '\\') {
          state = 'valueEscape';
          valueEnd = -1;
        } else {
          if (!WHITESPACE.includes(c)) valueEnd = -1;
          else if (valueEnd < 0) valueEnd = value.length;
          value += c;
        }
        break;
      case 'valueEscape':
        state = 'value';
        if (!NEWLINE.includes(c)) value += c;
        break;
      case 'single':
        if (c === "'") state = 'preValue';
        else value += c;
        break;
      case 'double':
        if (c === '"') state = 'preValue';
        else if (c === '\\') state = 'doubleEscape';
        else value += c;
        break;
      case 'doubleEscape':
        state = 'double';
        if (UNESCAPED_IN_DOUBLE_QUOTES.includes(c)) value += c;
        else if (c !== '\n') value += `\\${c}`;
        break;
      case 'comment':
        if (c === '\\') state = 'commentEscape';
        else if (NEWLINE.includes(c)) state = 'preKey';
        break;
      case 'commentEscape':
        state = 'comment';
        break;
    }
    if (c === '\n') line += 1;
  }
  if (state === 'key') file.ignored.push({ line: keyLine, why: 'no "=": not a setting' });
  else if (state !== 'preKey' && state !== 'comment' && state !== 'commentEscape') {
    if (state === 'value' && valueEnd >= 0) value = value.slice(0, valueEnd);
    push();
  }
  return file;
}

function assign(file: EnvFile, rawKey: string, rawValue: string, line: number): void {
  const key = fromUtf8(rawKey, line, 'the name');
  const value = fromUtf8(rawValue, line, `the value of ${key}`);
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    file.values[key] = value;
    file.lineOf[key] = line;
    return;
  }
  const exported = /^export\s+([A-Za-z_][A-Za-z0-9_]*)$/.exec(key)?.[1];
  file.ignored.push({
    line,
    why: exported
      ? `systemd does not take "export": write ${exported}=... without it`
      : 'not a variable name (letters, digits and _, not starting with a digit)',
  });
}

function fromUtf8(latin1: string, line: number, what: string): string {
  try {
    return utf8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    throw new EnvFileError(line, `${what} is not valid UTF-8 (systemd refuses the whole file)`);
  }
}
