/**
 * The de-duplication record failing mid-run, in process (the spawned-daemon test in process.test.ts
 * makes a real ENOSPC on a tmpfs; this one needs no root: the record's path becomes a directory).
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness } from '../kit/daemon-harness.js';
import { answered } from '../kit/recovery.js';

t.test('a record that cannot be written: answers go on, one warning, STATUS= says so until it is writable again', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'toodles-state-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const h = await startHarness({ env: { TOODLES_STATE_DIR: stateDir } });
  t.teardown(() => h.stop());
  const record = join(stateDir, 'seen-activities.log');
  rmSync(record, { force: true });
  mkdirSync(record);
  for (let i = 0; i < 3; i++) await answered(h);
  const warned = await h.waitForLog('state.write_failed');
  t.match(warned, { stateDir, err: /EISDIR/ });
  t.equal(h.logs.filter((l) => l.event === 'state.write_failed').length, 1, 'one warning for several failures');
  t.match(h.notices.filter((n) => n.startsWith('STATUS=')).at(-1), /^STATUS=Online as .*; cannot save handled message ids in .*EISDIR/);
  rmSync(record, { recursive: true });
  await answered(h);
  await h.waitForLog('state.write_recovered');
  t.match(h.notices.filter((n) => n.startsWith('STATUS=')).at(-1), /^STATUS=Online as [^;]*$/, 'STATUS= plain again');
});
