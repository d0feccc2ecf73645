/**
 * Traffic log: one JSON object per HTTP request, websocket frame or fault action.
 * Always recorded in a bounded ring (tests read it); optionally printed or handed to a callback.
 */
export type TrafficLine = Record<string, unknown> & { t: number; kind: string };
export type LogSink = boolean | ((line: Record<string, unknown>) => void) | undefined;

export class TrafficLog {
  private readonly lines: TrafficLine[] = [];
  constructor(
    private readonly sink: LogSink,
    private readonly max = 10_000,
  ) {}

  log(kind: string, fields: Record<string, unknown>): void {
    const line: TrafficLine = { t: Date.now(), kind, ...fields };
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    if (this.sink === true) process.stdout.write(JSON.stringify(line) + '\n');
    else if (typeof this.sink === 'function') this.sink(line);
  }

  all(): TrafficLine[] {
    return [...this.lines];
  }
}
