// The command modules in a directory, each imported, checked and made a command, or skipped with
// the reason. Files are taken in name order, so a keyword two modules claim goes to the first.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Command } from '../bot/command.js';
import { bounded, TimeoutError } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import { asCommand } from './adapt.js';
import type { KvStorage } from './kv.js';
import { moduleCommands } from './shape.js';

export interface ModuleDeps {
  /** The words (keywords and aliases) the built-in commands answer to. */
  reserved: ReadonlySet<string>;
  storage: KvStorage;
  log: Logger;
  /** The TOODLES_MODULE_* settings modules may read. */
  settings: Readonly<Record<string, string>>;
  /** How long a module's own top-level code may take to load. */
  importTimeoutMs?: number;
}

export interface ModuleProblem {
  file: string;
  why: string;
}

export interface LoadedModules {
  commands: Command[];
  problems: ModuleProblem[];
}

const IMPORT_TIMEOUT_MS = 5_000;

/** A module: a `.js` or `.mjs` file, not hidden, and not a module's test (`new-command` writes one beside it). */
export const isModuleFile = (name: string): boolean => /\.m?js$/.test(name) && !name.startsWith('.') && !/\.test\.m?js$/.test(name);

/**
 * Loads every module in `dir`. A module that cannot be read or imported, throws while loading, has
 * the wrong shape or claims a word already taken is left out whole, with one problem naming the
 * file and why; the others load. Node keeps every module it imports: each file is imported under
 * its content's hash, so a changed file is loaded anew and an unchanged one is the module already loaded.
 */
export async function loadCommandModules(dir: string, deps: ModuleDeps): Promise<LoadedModules> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && isModuleFile(e.name))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    return { commands: [], problems: [{ file: dir, why: `the directory cannot be read: ${errorText(err)}` }] };
  }
  const taken = new Map<string, string>([...deps.reserved].map((w) => [w, 'a built-in command']));
  const commands: Command[] = [];
  const problems: ModuleProblem[] = [];
  for (const file of names) {
    const loaded = await loadOne(join(dir, file), deps.importTimeoutMs ?? IMPORT_TIMEOUT_MS);
    const shape = 'why' in loaded ? loaded : moduleCommands(loaded.exported);
    if ('why' in shape) {
      problems.push({ file, why: shape.why });
      continue;
    }
    const clash = shape.commands.flatMap((c) => [c.keyword, ...(c.aliases ?? [])]).find((w) => taken.has(w));
    if (clash !== undefined) {
      problems.push({ file, why: `claims \`${clash}\`, already taken by ${taken.get(clash)}` });
      continue;
    }
    for (const c of shape.commands) {
      for (const word of [c.keyword, ...(c.aliases ?? [])]) taken.set(word, file);
      commands.push(asCommand(c, { storage: deps.storage, log: deps.log, settings: deps.settings, file }));
    }
  }
  return { commands, problems };
}

async function loadOne(path: string, timeoutMs: number): Promise<{ exported: Record<string, unknown> } | { why: string }> {
  let source: Buffer;
  try {
    source = await readFile(path);
  } catch (err) {
    return { why: `cannot be read: ${errorText(err)}` };
  }
  const url = `${pathToFileURL(path).href}?v=${createHash('sha256').update(source).digest('hex').slice(0, 16)}`;
  try {
    const exported = await bounded(`loading ${path}`, import(url) as Promise<Record<string, unknown>>, { timeoutMs });
    return { exported };
  } catch (err) {
    if (err instanceof SyntaxError) return { why: `has a syntax error${await syntaxErrorLine(path)}: ${err.message}` };
    if (err instanceof TimeoutError) return { why: `was still loading after ${timeoutMs} ms (its top-level code waits for something)` };
    return { why: `failed while loading: ${errorText(err)}` };
  }
}

/** Where the syntax error is (" at line N"): an import's error does not say, `node --check` does. */
async function syntaxErrorLine(path: string): Promise<string> {
  const stderr = await new Promise<string>((resolve) => {
    execFile(process.execPath, ['--check', path], { timeout: IMPORT_TIMEOUT_MS }, (_err, _out, err) => resolve(String(err)));
  });
  const line = stderr.match(/^.*:(\d+)$/m)?.[1];
  return line ? ` at line ${line}` : '';
}
