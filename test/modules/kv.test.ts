// A command's key/value store (src/modules/kv.ts) on SQLite and on a real PostgreSQL: JSON values
// under the command's keyword, the limits, and a database that is away.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Database } from '../../src/database/database.js';
import { commandStore, MAX_KEY_CHARS, MAX_VALUE_BYTES } from '../../src/modules/kv.js';
import { openStorage, StorageUnavailableError, type Storage } from '../../src/storage/index.js';
import { captureLog } from '../kit/log-capture.js';
import { startPostgres } from '../kit/postgres.js';
import { eventually } from '../kit/wait.js';

const pg = await startPostgres();
t.teardown(() => pg.close());

type Test = { teardown(fn: () => unknown): void };

const kinds: Array<{ name: string; open(t: Test): Promise<{ storage: Storage; database?: Database }> }> = [
  {
    name: 'sqlite',
    async open(t) {
      const dir = mkdtempSync(join(tmpdir(), 'toodles-kv-'));
      const storage = await openStorage({ dir, log: captureLog().logger });
      t.teardown(async () => {
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      });
      return { storage };
    },
  },
  {
    name: 'postgres',
    async open(t) {
      const { logger } = captureLog();
      const database = new Database({
        url: pg.url(await pg.createDatabase()),
        log: logger,
        applicationName: 'kv',
        probeMinMs: 50,
        probeMaxMs: 200,
      });
      const storage = await openStorage({ database, log: logger });
      t.teardown(async () => {
        await storage.close();
        await database.close();
      });
      return { storage, database };
    },
  },
];

for (const kind of kinds) {
  t.test(kind.name, async (t) => {
    t.test('JSON values under the keyword: each command sees only its own', async (t) => {
      const { storage } = await kind.open(t);
      const links = commandStore(storage, 'links');
      const who = commandStore(storage, 'who');
      const value = {
        url: 'https://wiki.example.com/a?b=c',
        tags: ['docs', 'team'],
        stars: 3,
        pinned: true,
        note: null,
        name: 'Ünïcode ✓',
      };
      await links.set('wiki', value);
      await links.set('count', 41);
      await links.set('count', 42);
      await who.set('wiki', 'not a link');
      t.same(await links.get('wiki'), value, 'read back as written');
      t.equal(await links.get('count'), 42, 'replaced');
      t.equal(await who.get('wiki'), 'not a link');
      t.equal(await links.get('nothing'), undefined);
      t.same(await links.list(), [
        { key: 'count', value: 42 },
        { key: 'wiki', value },
      ]);
      t.same(await links.list('w'), [{ key: 'wiki', value }]);
      t.equal(await links.delete('wiki'), true);
      t.equal(await links.delete('wiki'), false);
      t.same(await who.list(), [{ key: 'wiki', value: 'not a link' }], "another command's keys are untouched");
    });

    t.test('keys and values out of bounds are refused before reaching the database', async (t) => {
      const { storage } = await kind.open(t);
      const store = commandStore(storage, 'links');
      await t.rejects(store.set('', 1), /a key must be a string of 1 to 200 characters/);
      await t.rejects(store.set('k'.repeat(MAX_KEY_CHARS + 1), 1), /a key must be/);
      await t.rejects(store.get(7 as unknown as string), /a key must be/);
      await t.rejects(store.set('k', undefined as unknown as null), /the value must be JSON \(use delete to remove a key\)/);
      await t.rejects(store.set('k', (() => 1) as unknown as null), /the value must be JSON/);
      await t.rejects(store.set('k', 'x'.repeat(MAX_VALUE_BYTES)), /the value is over 64 KiB as JSON/);
      await store.set('k'.repeat(MAX_KEY_CHARS), 'x'.repeat(MAX_VALUE_BYTES - 2));
      t.equal(((await store.get('k'.repeat(MAX_KEY_CHARS))) as string).length, MAX_VALUE_BYTES - 2, 'the largest value fits');
      await t.rejects(store.list(3 as unknown as string), /the prefix must be a string/);
    });
  });
}

t.test('postgres away: every call fails at once with StorageUnavailableError, and works again once it is back', async (t) => {
  const { storage, database } = await kinds[1]!.open(t);
  const store = commandStore(storage, 'links');
  await store.set('wiki', 'https://wiki');
  await pg.stop();
  await eventually('the database noticed as down', async () => {
    await store.get('wiki').catch(() => undefined);
    return !database?.isUp;
  });
  for (const call of [store.get('wiki'), store.set('wiki', 1), store.delete('wiki'), store.list()] as Promise<unknown>[]) {
    await t.rejects(call, StorageUnavailableError);
  }
  await pg.start();
  t.equal(await eventually('the database back', () => store.get('wiki').catch(() => undefined), 10_000), 'https://wiki');
});
