/**
 * Identifiers, Webex style.
 *
 * Internally Webex names everything by UUID. The public REST API ("hydra") wraps a UUID as
 * base64url("ciscospark://<cluster>/<TYPE>/<uuid>"). Mercury events carry raw UUIDs, and the SDK
 * rebuilds the hydra id itself before fetching over REST, so both forms must map to the same object.
 */
import { randomUUID } from 'node:crypto';

export type HydraType = 'MESSAGE' | 'PEOPLE' | 'ROOM' | 'ATTACHMENT_ACTION' | 'MEMBERSHIP' | 'ORGANIZATION';

export const newUuid = (): string => randomUUID();

/** People and orgs always live in cluster "us"; we keep everything in "us" (see catalog.ts). */
export function hydraId(type: HydraType, uuid: string): string {
  return Buffer.from(`ciscospark://us/${type}/${uuid}`).toString('base64url');
}

/** Accepts a hydra id (padded or not) or a bare UUID; returns the UUID and type if it parses. */
export function parseHydraId(id: string): { type?: HydraType; uuid: string } {
  if (/^[0-9a-f-]{36}$/i.test(id)) return { uuid: id.toLowerCase() };
  const decoded = Buffer.from(id, 'base64url').toString('utf8');
  const m = /^ciscospark:\/\/[^/]+\/([A-Z_]+)\/(.+)$/.exec(decoded);
  if (!m) return { uuid: id };
  return { type: m[1] as HydraType, uuid: m[2]! };
}
