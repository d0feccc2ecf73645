import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * `9464` or `:9464` (loopback), `127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`: anything but
 * loopback only when written out. Port 0 picks a free port. Throws with the problem in words.
 */
export function parseListenAddress(value: string): ListenAddress {
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(value);
  const host = m?.[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  const port = Number(m?.[2]);
  if (!m || port > 65535 || (host !== 'localhost' && !isIP(host))) {
    throw new Error(`must be [ADDRESS:]PORT with an IP address, e.g. 127.0.0.1:9464 (got "${value}")`);
  }
  return { host, port };
}
