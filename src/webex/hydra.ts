/**
 * Webex's public REST API (hydra) through an SDK instance's own request(): its auth, service catalog
 * and proxy hook, as the SDK's public plugins call it, without loading those plugins (they bring the
 * SDK's conversation and encryption code, most of its start-up cost). A failure is the SDK's own
 * error, carrying Webex's statusCode and headers for rest.ts's retry rules.
 */
import type { SdkRequest, WebexSdk } from './sdk-types.js';

export interface HydraCall {
  method?: SdkRequest['method'];
  /** The path under the hydra URL, e.g. `messages/<id>`; ids are encoded by the caller. */
  resource: string;
  qs?: Record<string, string | number>;
  /** Sent as JSON. */
  body?: unknown;
}

/** One call; resolves with the body Webex answered (none for a 204). */
export async function hydra<T>(sdk: WebexSdk, call: HydraCall): Promise<T> {
  const res = await sdk.request<T>({ ...call, service: 'hydra', method: call.method ?? 'GET' });
  return res.body;
}

/** One page of a list call, and whether Webex has another (a `Link` header with rel="next"). */
export interface HydraPage<T> {
  items: T[];
  more: boolean;
}

export async function hydraPage<T>(sdk: WebexSdk, resource: string, qs: Record<string, string | number>): Promise<HydraPage<T>> {
  const res = await sdk.request<{ items?: T[] }>({ service: 'hydra', method: 'GET', resource, qs });
  return { items: res.body?.items ?? [], more: hasNextLink(res.headers.link) };
}

/** RFC 8288: `<url>; rel="next", <url>; rel="prev"`; several headers may come joined or as a list. */
export function hasNextLink(header: string | string[] | undefined): boolean {
  const links = (Array.isArray(header) ? header : [header ?? '']).flatMap((h) => h.split(/,\s*(?=<)/));
  return links.some((link) => {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(link);
    return (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/).includes('next');
  });
}
