/**
 * The gist of anything thrown, for a log field or STATUS=: the first line of its message, with the
 * HTTP status when there is one (the SDK's errors go on with URLs and tracking ids). Never a stack.
 */
export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n', 1)[0]!.trim();
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && !firstLine.includes(String(status)) ? `HTTP ${status}: ${firstLine}` : firstLine;
}
