import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLog } from '../../src/log.js';

t.test('secrets are scrubbed from the serialized line, whichever field carries them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-log-'));
  const token = 'SECRETTOKENabcdef0123456789_PF84_org';
  const proxyPassword = 'hunter2%40x';
  const log = createLog({ level: 'info', dir, secrets: [token, proxyPassword, ''] });
  log.logger.info({ event: 'test.leak', err: `request to http://u:${proxyPassword}@proxy:3128 failed`, detail: { nested: `Bearer ${token}` } });
  await log.close();
  const file = readdirSync(dir).find((f) => f.endsWith('.log'));
  const text = readFileSync(join(dir, file!), 'utf8');
  t.match(text, /"event":"test.leak"/);
  t.notMatch(text, token);
  t.notMatch(text, proxyPassword);
  t.match(text, /u:\[redacted\]@proxy/);
});
