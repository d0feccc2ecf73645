import type { Storage } from '../storage/index.js';
import type { JsonValue, KeyValueStore } from './api.js';

export const MAX_KEY_CHARS = 200;
export const MAX_VALUE_BYTES = 64 * 1024;

export type KvStorage = Pick<Storage, 'kvGet' | 'kvSet' | 'kvDelete' | 'kvList'>;

/** A command's key/value store: its values as JSON in toodles' storage, under its keyword, so no other command sees them. */
export function commandStore(storage: KvStorage, keyword: string, now: () => number = Date.now): KeyValueStore {
  return {
    async get(key) {
      const text = await storage.kvGet(keyword, checkedKey(key));
      return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
    },
    async set(key, value) {
      await storage.kvSet(keyword, checkedKey(key), valueText(value), now());
    },
    async delete(key) {
      return storage.kvDelete(keyword, checkedKey(key));
    },
    async list(prefix = '') {
      if (typeof prefix !== 'string') throw new TypeError('store.list: the prefix must be a string');
      const entries = await storage.kvList(keyword, prefix);
      return entries.map(({ key, value }) => ({ key, value: JSON.parse(value) as JsonValue }));
    },
  };
}

function checkedKey(key: unknown): string {
  if (typeof key !== 'string' || !key || key.length > MAX_KEY_CHARS) {
    throw new TypeError(`store: a key must be a string of 1 to ${MAX_KEY_CHARS} characters`);
  }
  return key;
}

function valueText(value: unknown): string {
  // undefined, a function or a symbol has no JSON; a value that cannot be read back the same is refused.
  const text = value === undefined ? undefined : (JSON.stringify(value) as string | undefined);
  if (text === undefined) throw new TypeError('store.set: the value must be JSON (use delete to remove a key)');
  if (Buffer.byteLength(text) > MAX_VALUE_BYTES) throw new TypeError(`store.set: the value is over ${MAX_VALUE_BYTES / 1024} KiB as JSON`);
  return text;
}
