import t from 'tap';
import { capValue, decodeEntry, encodeEntry, fieldName, MAX_VALUE_BYTES } from '../../src/journal/protocol.js';

t.test('field names: camelCase to upper snake, invalid characters and leading _/digits removed, 64 max', async (t) => {
  t.equal(fieldName('durationMs'), 'DURATION_MS');
  t.equal(fieldName('deafMs'), 'DEAF_MS');
  t.equal(fieldName('event'), 'EVENT');
  t.equal(fieldName('proxy_host'), 'PROXY_HOST');
  t.equal(fieldName('err.code'), 'ERR_CODE');
  t.equal(fieldName('_private'), 'PRIVATE');
  t.equal(fieldName('9lives'), 'LIVES');
  t.equal(fieldName('ünïcode-key'), 'N_CODE_KEY');
  t.equal(fieldName('___'), undefined);
  t.equal(fieldName('a'.repeat(100))!.length, 64);
  for (const k of ['durationMs', 'x-y', '1a', 'ÄÖ', 'a b']) {
    const n = fieldName(k);
    if (n !== undefined) t.match(n, /^[A-Z][A-Z0-9_]{0,63}$/, `${k} -> ${n} is a valid journal name`);
  }
});

t.test('plain values as NAME=value lines; multi-line values in the binary length form (bytes, not characters)', async (t) => {
  const dg = encodeEntry([
    ['MESSAGE', 'Reconnected in 14 ms'],
    ['ERR', 'first line\nzweite Zeile: äöü'],
  ]);
  const text = dg.toString('utf8');
  t.ok(text.startsWith('MESSAGE=Reconnected in 14 ms\nERR\n'), 'simple field, then the binary form');
  const at = dg.indexOf('ERR\n') + 4;
  const len = Number(dg.readBigUInt64LE(at));
  t.equal(len, Buffer.byteLength('first line\nzweite Zeile: äöü'), 'length is the byte length');
  t.equal(dg[dg.length - 1], 0x0a, 'ends with a newline');
  const back = decodeEntry(dg);
  t.equal(back.get('MESSAGE'), 'Reconnected in 14 ms');
  t.equal(back.get('ERR'), 'first line\nzweite Zeile: äöü');
});

t.test('values are capped on a character boundary; an oversized entry keeps MESSAGE and PRIORITY', async (t) => {
  t.equal(capValue('x'.repeat(MAX_VALUE_BYTES + 10)).length, MAX_VALUE_BYTES);
  const cut = capValue('aé'.repeat(10), 4); // a, é(2 bytes), a -> 4 bytes; never half an é
  t.equal(cut.toString('utf8'), 'aéa');
  t.equal(capValue('aéé', 4).toString('utf8'), 'aé', 'a cut inside é backs off to the boundary');
  const big = 'y'.repeat(MAX_VALUE_BYTES);
  const fields: Array<[string, string]> = [
    ['MESSAGE', 'hello'],
    ['PRIORITY', '6'],
  ];
  for (let i = 0; i < 20; i++) fields.push([`F${i}`, big]);
  const dg = encodeEntry(fields, 64 * 1024);
  t.ok(dg.length <= 64 * 1024, `datagram ${dg.length} bytes fits the limit`);
  const back = decodeEntry(dg);
  t.equal(back.get('MESSAGE'), 'hello');
  t.equal(back.get('PRIORITY'), '6');
  t.ok(back.size >= 3 && back.size < 22, `some large fields were left out (${back.size} kept)`);
});
