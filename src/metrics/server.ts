/** The opt-in HTTP listener (TOODLES_METRICS_LISTEN): /healthz for probes, /metrics for Prometheus. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { bounded } from '../util/bounded.js';
import { errorText } from '../util/error-text.js';
import type { Health } from './health.js';
import type { ListenAddress } from './listen.js';
import type { Metrics } from './metrics.js';

export interface MetricsServer {
  address: ListenAddress;
  close: () => Promise<void>;
}

export async function startMetricsServer(at: ListenAddress, metrics: Metrics, health: () => Health, log: Logger): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(h)}\n`);
    } else if (path === '/metrics') {
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(errorText(err)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('toodles serves /healthz and /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const address = { host: at.host, port: bound.port };
  log.info({ event: 'metrics.listening', host: address.host, port: address.port });
  return {
    address,
    close: () =>
      bounded('metrics close', new Promise<void>((resolve) => server.close(() => resolve())), { timeoutMs: 1_000 }).catch(() =>
        server.closeAllConnections(),
      ),
  };
}
