/**
 * U2C service catalog ("hostmap" format), the SDK's map from service names to URLs.
 *
 * After login the SDK needs `wdm` (devices), `hydra` (public REST), `conversation` (room URLs in
 * Mercury activities are matched against it to find the cluster) and optionally `metrics`.
 * hostCatalog is keyed by host:port; each entry's id is `urn:TEAM:<cluster>:<service>`, and the
 * cluster must start with `us-east-2_a` for the SDK to map rooms to the hydra cluster "us".
 */
export interface ServiceUrls {
  u2c: string;
  hydra: string;
  wdm: string;
  conversation: string;
  metrics: string;
  mercury: string;
}

export function serviceUrls(baseUrl: string): ServiceUrls {
  return {
    u2c: `${baseUrl}/u2c/api/v1`,
    hydra: `${baseUrl}/v1`,
    wdm: `${baseUrl}/wdm/api/v1`,
    conversation: `${baseUrl}/conversation/api/v1`,
    metrics: `${baseUrl}/metrics/api/v1`,
    mercury: `${baseUrl.replace(/^http/, 'ws')}/mercury/api/v1`,
  };
}

export function hostmap(baseUrl: string, orgId: string): Record<string, unknown> {
  const urls = serviceUrls(baseUrl);
  const { host: hostPort, hostname } = new URL(baseUrl);
  const serviceLinks = { wdm: urls.wdm, hydra: urls.hydra, conversation: urls.conversation, metrics: urls.metrics };
  return {
    serviceLinks,
    // Everything is on one host:port, so one hostCatalog entry lists a host record per service.
    hostCatalog: {
      [hostPort]: Object.keys(serviceLinks).map((name) => ({
        // The SDK swaps this hostname into the service URL and keeps the URL's port.
        host: hostname,
        ttl: -1,
        priority: 5,
        id: `urn:TEAM:us-east-2_a:${name}`,
      })),
    },
    format: 'hostmap',
    orgId,
    timestamp: String(Date.now()),
  };
}
