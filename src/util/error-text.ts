/** The message of anything thrown, for a log field; never the stack (operators read these lines). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
