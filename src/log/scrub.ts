/**
 * Secrets are redacted where credentials occur, not as arbitrary substrings: a one-character proxy
 * password must not turn timestamps into "[redacted]". The line is parsed and every string value
 * rewritten, so it stays valid JSON and every other field (and journal field) stays intact.
 */
export const REDACTED = '[redacted]';

/** Secrets shorter than this are only redacted by structure (URL userinfo, Bearer, credential fields). */
export const MIN_LITERAL_SECRET = 8;

const CREDENTIAL_KEY = /^(token|password|passwd|secret|authorization|proxy-?authorization|cookie)$/i;
// scheme://user:password@host: the password part, whatever it is (even one character)
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:)[^\s/@]*@/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

export type Scrubber = (line: string) => string;

export function scrubber(secrets: readonly string[]): Scrubber {
  const literals = secrets.filter((s) => s.length >= MIN_LITERAL_SECRET);
  const text = (s: string) => {
    let out = s.replace(URL_USERINFO, `$1${REDACTED}@`).replace(BEARER, `$1 ${REDACTED}`);
    for (const secret of literals) out = out.replaceAll(secret, REDACTED);
    return out;
  };
  const value = (v: unknown, key?: string): unknown => {
    if (key !== undefined && CREDENTIAL_KEY.test(key) && v !== null && v !== undefined) return REDACTED;
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map((x) => value(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x, k)]));
    return v;
  };
  return (line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return text(line); // not one of pino's lines: still never let a credential through
    }
    return `${JSON.stringify(value(parsed))}\n`;
  };
}
