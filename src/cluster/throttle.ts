/** At most one log line per interval for an event that can repeat per message; the rest are counted. */
export class Throttled {
  private lastAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly everyMs: number,
    private readonly now: () => number,
  ) {}

  /** Calls `write` with how many were left out since the last line, or counts this one as left out. */
  maybe(write: (suppressed: number) => void): void {
    const now = this.now();
    if (now - this.lastAt < this.everyMs) {
      this.suppressed += 1;
      return;
    }
    write(this.suppressed);
    this.lastAt = now;
    this.suppressed = 0;
  }
}
