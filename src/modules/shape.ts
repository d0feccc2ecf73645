// Is what a module file exports a list of commands under the API? Each problem in words a module's
// author can act on; the loader skips the module with it.
import { API_VERSION, type ModuleCommand } from './api.js';

/** A keyword or alias: one lower-case word, as the dispatcher matches them. */
const WORD = /^[a-z][a-z0-9_-]{0,31}$/;
const MAX_DESCRIPTION_CHARS = 200;
const COMMAND_PROPERTIES = new Set(['keyword', 'aliases', 'description', 'help', 'adminOnly', 'run', 'form', 'actions']);
const FORM_PROPERTIES = new Set(['fields', 'required', 'card', 'submit']);
/** The action of help's button that sends a command's form (OPEN_FORM): no command may name one of its own so. */
const RESERVED_ACTION = 'open';

export type Shape = { commands: ModuleCommand[] } | { why: string };

/** The commands a module's namespace exports, or why it is not a module under this API. */
export function moduleCommands(exported: Record<string, unknown>): Shape {
  const version = exported.apiVersion;
  if (version === undefined) return { why: `exports no apiVersion (add: export const apiVersion = ${API_VERSION})` };
  if (version !== API_VERSION) {
    return { why: `is written for command API version ${shown(version)}; this toodles speaks version ${API_VERSION}` };
  }
  const found = exported.default;
  if (found === undefined) return { why: 'has no default export (export default { keyword, description, run })' };
  const list: unknown[] = Array.isArray(found) ? found : [found];
  if (!list.length) return { why: 'exports an empty list of commands' };
  const commands: ModuleCommand[] = [];
  const words = new Set<string>();
  for (const [i, item] of list.entries()) {
    const problem = commandProblem(item);
    const name = isObject(item) && typeof item.keyword === 'string' ? `\`${item.keyword}\`` : `command ${i + 1}`;
    if (problem) return { why: `${name}: ${problem}` };
    const command = item as ModuleCommand;
    for (const word of [command.keyword, ...(command.aliases ?? [])]) {
      if (words.has(word)) return { why: `claims \`${word}\` twice` };
      words.add(word);
    }
    commands.push(command);
  }
  return { commands };
}

function commandProblem(c: unknown): string | undefined {
  if (!isObject(c)) return `is ${shown(c)}, not a command object`;
  const unknown = Object.keys(c).find((k) => !COMMAND_PROPERTIES.has(k));
  if (unknown !== undefined) return `unknown property \`${unknown}\` (a command has ${[...COMMAND_PROPERTIES].join(', ')})`;
  if (!isWord(c.keyword)) return `keyword ${shown(c.keyword)} must be one lower-case word (a-z, 0-9, - and _, starting with a letter)`;
  if (c.aliases !== undefined && !(Array.isArray(c.aliases) && c.aliases.every(isWord))) {
    return 'aliases must be a list of lower-case words like the keyword';
  }
  if (typeof c.description !== 'string' || !c.description.trim() || /[\r\n]/.test(c.description)) {
    return 'description must be one line of text (what help shows)';
  }
  if (c.description.length > MAX_DESCRIPTION_CHARS)
    return `description is over ${MAX_DESCRIPTION_CHARS} characters (the rest goes in help)`;
  if (c.help !== undefined && typeof c.help !== 'string') return 'help must be text';
  if (c.adminOnly !== undefined && typeof c.adminOnly !== 'boolean') return 'adminOnly must be true or false';
  if (typeof c.run !== 'function') return 'run must be a function (async run(ctx) { ... })';
  if (c.form !== undefined) {
    const problem = formProblem(c.form);
    if (problem) return `form: ${problem}`;
  }
  if (c.actions !== undefined) {
    if (!isObject(c.actions) || !Object.values(c.actions).every((a) => typeof a === 'function')) {
      return 'actions must be an object of functions, by action name';
    }
    if (Object.hasOwn(c.actions, RESERVED_ACTION))
      return `actions: \`${RESERVED_ACTION}\` is help's button that sends the form; name it otherwise`;
  }
  return undefined;
}

function formProblem(f: unknown): string | undefined {
  if (!isObject(f)) return 'must be an object with fields, required, card and submit';
  const unknown = Object.keys(f).find((k) => !FORM_PROPERTIES.has(k));
  if (unknown !== undefined) return `unknown property \`${unknown}\` (a form has ${[...FORM_PROPERTIES].join(', ')})`;
  if (!isTextList(f.fields)) return 'fields must be a list of input ids';
  if (!isTextList(f.required)) return 'required must be a list of input ids';
  const fields = f.fields;
  const stray = f.required.find((r) => !fields.includes(r));
  if (stray !== undefined) return `required names \`${stray}\`, which is not in fields`;
  if (typeof f.card !== 'function') return 'card must be a function that returns the card';
  if (typeof f.submit !== 'function') return 'submit must be a function (async submit(ctx) { ... })';
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A keyword or alias a command may have. */
export const isWord = (v: unknown): v is string => typeof v === 'string' && WORD.test(v);
const isTextList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** A value as a problem quotes it: short, and never a whole object. */
function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}
