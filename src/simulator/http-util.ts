/** Tiny helpers for the plain node:http handlers. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request's JSON object; an empty body, or one that is not an object, reads as {}. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (!chunks.length) return {};
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json' } : {}),
    'content-length': Buffer.byteLength(text),
    trackingid: `SIM_${Date.now()}`,
    ...headers,
  });
  res.end(text);
}

/** Hydra's error body shape. */
export function hydraError(status: number, message: string): Record<string, unknown> {
  return { message, errors: [{ description: message }], trackingId: `SIM_${Date.now()}` };
}
