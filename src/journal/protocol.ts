/**
 * The journal's native protocol (systemd.journal-fields(7), "Native Journal Protocol"): one datagram of
 * `NAME=value\n` pairs; a value holding a newline goes as `NAME\n` + its byte length (64-bit little
 * endian) + the bytes + `\n`. Field names are A-Z, 0-9 and `_`, not starting with `_` or a digit, at
 * most 64 characters: journald silently drops any other, so names are made valid here.
 */

/** Beyond this a value is cut (journalctl shows longer ones as null without --all anyway). */
export const MAX_VALUE_BYTES = 16 * 1024;
/** Under the default socket send buffer (~208 KiB): a larger datagram fails with EMSGSIZE. */
export const MAX_DATAGRAM_BYTES = 128 * 1024;

const MAX_NAME = 64;

/** `durationMs` -> `DURATION_MS`, `err.code` -> `ERR_CODE`; undefined when nothing valid is left. */
export function fieldName(key: string): string | undefined {
  const name = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]+/g, '_')
    .replace(/^[_0-9]+/, '')
    .slice(0, MAX_NAME);
  return name.length > 0 ? name : undefined;
}

/** Cuts a value to `max` bytes on a character boundary. */
export function capValue(value: string, max = MAX_VALUE_BYTES): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1; // not inside a multi-byte character
  return bytes.subarray(0, end);
}

/**
 * One datagram for these fields (names already valid). Fields that would push it over `maxBytes` are
 * left out, largest first, so the entry still arrives with its MESSAGE and PRIORITY.
 */
export function encodeEntry(fields: ReadonlyArray<readonly [string, string]>, maxBytes = MAX_DATAGRAM_BYTES): Buffer {
  const parts = fields.map(([name, value]) => encodeField(name, capValue(value)));
  let total = parts.reduce((n, p) => n + p.length, 0);
  if (total > maxBytes) {
    const bySize = parts.map((p, i) => i).filter((i) => !['MESSAGE', 'PRIORITY'].includes(fields[i]![0]));
    bySize.sort((a, b) => parts[b]!.length - parts[a]!.length);
    for (const i of bySize) {
      if (total <= maxBytes) break;
      total -= parts[i]!.length;
      parts[i] = Buffer.alloc(0);
    }
  }
  return Buffer.concat(parts);
}

function encodeField(name: string, value: Buffer): Buffer {
  if (!value.includes(0x0a)) return Buffer.concat([Buffer.from(`${name}=`), value, Buffer.from('\n')]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(value.length));
  return Buffer.concat([Buffer.from(`${name}\n`), length, value, Buffer.from('\n')]);
}

/** Decodes a datagram back into fields: what journald does, for tests and the fake journal. */
export function decodeEntry(datagram: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < datagram.length) {
    const nl = datagram.indexOf(0x0a, at);
    const line = datagram.subarray(at, nl < 0 ? datagram.length : nl).toString('utf8');
    const eq = line.indexOf('=');
    if (eq >= 0) {
      fields.set(line.slice(0, eq), line.slice(eq + 1));
      at = nl < 0 ? datagram.length : nl + 1;
    } else {
      const size = Number(datagram.readBigUInt64LE(nl + 1));
      fields.set(line, datagram.subarray(nl + 9, nl + 9 + size).toString('utf8'));
      at = nl + 9 + size + 1;
    }
  }
  return fields;
}
