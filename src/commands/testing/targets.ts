import { BlockList, isIP } from 'node:net';

const MAX_TARGETS = 50;

/**
 * A target is an IP, a CIDR, a host name (`*.example.com` covers the subdomains) or an http(s)
 * URL (its host counts). Returns the normalised form, or undefined when it is none of those.
 */
export function normaliseTarget(raw: string): string | undefined {
  const text = raw.trim();
  if (isIP(text)) return text.toLowerCase();
  const cidr = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (cidr) {
    const family = isIP(cidr[1]!);
    const bits = Number(cidr[2]);
    return family && bits <= (family === 4 ? 32 : 128) ? `${cidr[1]!.toLowerCase()}/${bits}` : undefined;
  }
  if (/^https?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return hostOf(url) !== undefined ? url.href : undefined;
    } catch {
      return undefined;
    }
  }
  return isHostName(text) ? text.toLowerCase().replace(/\.$/, '') : undefined;
}

/** Splits a form's targets field (lines, commas or spaces) and sorts the good from the bad. */
export function parseTargets(text: string): { targets: string[]; bad: string[]; tooMany: boolean } {
  const words = text.split(/[\s,;]+/).filter(Boolean);
  const targets: string[] = [];
  const bad: string[] = [];
  for (const word of words) {
    const target = normaliseTarget(word);
    if (target === undefined) bad.push(word);
    else if (!targets.includes(target)) targets.push(target);
  }
  return { targets, bad, tooMany: targets.length > MAX_TARGETS };
}

/** Does any of the targets cover this host, IP or URL? An IP inside a registered CIDR counts. */
export function covers(targets: readonly string[], query: string): boolean {
  const wanted = hostOrIp(query);
  if (wanted === undefined) return false;
  const family = isIP(wanted);
  for (const target of targets) {
    const host = hostOrIp(target);
    if (host === wanted) return true;
    if (family && target.includes('/') && !target.includes('://')) {
      const [net, bits] = target.split('/') as [string, string];
      const list = new BlockList();
      const type = isIP(net) === 6 ? 'ipv6' : 'ipv4';
      list.addSubnet(net, Number(bits), type);
      if (isIP(net) === family && list.check(wanted, type)) return true;
    }
    if (!family && host?.startsWith('*.') && wanted.endsWith(host.slice(1))) return true;
  }
  return false;
}

/** The host or IP a target or query names (a URL's host, brackets off), lower-case. */
function hostOrIp(text: string): string | undefined {
  const t = normaliseTarget(text);
  if (t === undefined || (t.includes('/') && !t.includes('://'))) return t;
  return t.includes('://') ? hostOf(new URL(t)) : t;
}

function hostOf(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return isIP(host) || isHostName(host) ? host : undefined;
}

function isHostName(text: string): boolean {
  const name = text.replace(/^\*\./, '').replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // An all-numeric last label is a mistyped IP (10.0.0.300), not a host.
  if (/^\d+$/.test(labels.at(-1)!)) return false;
  return labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l));
}
