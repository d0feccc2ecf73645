import t from 'tap';
import type { Command } from '../../src/bot/command.js';
import { CommandRegistry } from '../../src/bot/registry.js';
import { help } from '../../src/commands/help.js';
import { repliesTo } from '../kit/commands.js';

const command = (keyword: string, aliases?: string[]): Command => ({ keyword, aliases, description: keyword, run: async () => undefined });

t.test('finds built-ins and modules by keyword or alias, in any case; replaceModules swaps the modules whole', async (t) => {
  const registry = new CommandRegistry(() => [command('ping'), command('status', ['st'])]);
  t.same([...registry.builtInWords()], ['ping', 'status', 'st']);
  t.equal(registry.find('ST')?.keyword, 'status');
  t.equal(registry.find('links'), undefined);

  registry.replaceModules([command('links', ['bookmarks']), command('who')]);
  t.equal(registry.find('Bookmarks')?.keyword, 'links');
  t.same(
    registry.list().map((c) => c.keyword),
    ['ping', 'status', 'links', 'who'],
  );

  registry.replaceModules([command('who')]);
  t.equal(registry.find('links'), undefined, 'a module gone at a reload no longer answers');
  t.same(
    registry.list().map((c) => c.keyword),
    ['ping', 'status', 'who'],
  );
});

t.test('two commands claiming one word are refused, and the registry stays as it was', async (t) => {
  const registry = new CommandRegistry(() => [command('ping')]);
  registry.replaceModules([command('who')]);
  t.throws(() => registry.replaceModules([command('links'), command('pong', ['PING'])]), /`ping` is claimed by both ping and pong/);
  t.throws(() => registry.replaceModules([command('a', ['x']), command('b', ['x'])]), /`x` is claimed by both a and b/);
  t.same(
    registry.list().map((c) => c.keyword),
    ['ping', 'who'],
  );
  t.equal(registry.find('links'), undefined);
  t.throws(() => new CommandRegistry(() => [command('ping'), command('ping')]), /claimed by both/);
});

t.test('help lists what the registry holds when asked', async (t) => {
  const registry = new CommandRegistry((listing) => [help(listing), command('ping')]);
  const asked = async (args = '') => (await repliesTo(registry.find('help'), args)).join('\n');
  t.notMatch(await asked(), /`who`/);
  registry.replaceModules([
    { ...command('who'), description: 'who is on call', help: 'Say `who next` for the next one.', adminOnly: true },
  ]);
  t.match(await asked(), /- `who`: who is on call \(admins only\)/);
  t.equal(await asked('WHO'), '`who`: who is on call (admins only)\n\nSay `who next` for the next one.');
});
