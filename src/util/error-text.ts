/**
 * The gist of anything thrown, for a log field or STATUS=: the first line of its message, with the
 * HTTP status when there is one (the SDK's errors go on with URLs and tracking ids). Never a stack.
 */
export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // The SDK writes "undefined" as the message of an HTTP error whose body had none.
  const firstLine = message
    .split('\n', 1)[0]!
    .trim()
    .replace(/^undefined$/, '');
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status !== 'number' || firstLine.includes(String(status))) return firstLine;
  return firstLine ? `HTTP ${status}: ${firstLine}` : `HTTP ${status}`;
}
