/**
 * The device record (src/webex/device-record.ts) on its own and when the state dir cannot take it:
 * the bot still runs (it only loses the protection against an orphan after a crash) and says so.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceStore } from '../../src/webex/device-record.js';
import { startHarness } from '../kit/daemon-harness.js';
import { answered } from '../kit/recovery.js';

t.test('saved, loaded, cleared; a damaged file reads as no record', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-device-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new DeviceStore(join(dir, 'state'));
  t.equal(store.load(), undefined, 'nothing yet');
  store.save({ url: 'https://wdm/devices/1', webSocketUrl: 'wss://mercury/1' });
  t.same(store.load(), { url: 'https://wdm/devices/1', webSocketUrl: 'wss://mercury/1' });
  writeFileSync(join(dir, 'state', 'webex-device.json'), '{"url": 42');
  t.equal(store.load(), undefined, 'not JSON');
  writeFileSync(join(dir, 'state', 'webex-device.json'), '{"url": 42}');
  t.equal(store.load(), undefined, 'not a record');
  store.clear();
  store.clear();
  t.equal(store.load(), undefined, 'cleared (twice is fine)');
});

t.test('a state dir that cannot take the record: logged, and the bot answers anyway', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'toodles-device-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The record is written to a temporary file first: a directory in its place makes that fail.
  mkdirSync(join(dir, 'webex-device.json.tmp'));
  const h = await startHarness({ env: { TOODLES_STATE_DIR: dir } });
  t.teardown(() => h.stop());
  t.ok(
    h.logs.some((l) => l.event === 'webex.device_record_failed'),
    'webex.device_record_failed logged',
  );
  await answered(h);
});
