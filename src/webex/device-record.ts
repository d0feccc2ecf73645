import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../util/atomic-write.js';

/** What it takes to refresh a device registration instead of registering a new one. */
export interface DeviceRecord {
  url: string;
  webSocketUrl: string;
}

/**
 * The bot's one device registration, kept in the state directory. A process killed without its
 * shutdown (SIGKILL, a watchdog kill) cannot delete its device at Webex; the next one refreshes the
 * recorded device instead of leaving it behind and registering another.
 */
export class DeviceStore {
  private readonly file: string;

  constructor(dir: string) {
    this.file = join(dir, 'webex-device.json');
  }

  /** The recorded device, or undefined when there is none or the file is unusable. */
  load(): DeviceRecord | undefined {
    try {
      const r = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<DeviceRecord>;
      return typeof r.url === 'string' && typeof r.webSocketUrl === 'string' ? { url: r.url, webSocketUrl: r.webSocketUrl } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Written atomically (rename), so a kill mid-write leaves the old record or the new one. */
  save(record: DeviceRecord): void {
    mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
    writeAtomically(this.file, JSON.stringify(record));
  }

  clear(): void {
    rmSync(this.file, { force: true });
  }
}
