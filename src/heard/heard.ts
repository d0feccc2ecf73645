/**
 * The ids of the activities this instance's own sockets delivered lately, whether it then handled
 * them or a peer claimed them. With several instances on one bot, the bot's answer no longer proves
 * that THIS instance hears Webex (a peer may have answered for a deaf one): the canary asks here
 * whether its ping arrived. In memory only, and bounded: the oldest id goes when a new one comes.
 */
export const HEARD_MAX = 10_000;

export class HeardActivities {
  // A Set iterates in insertion order: its first element is the oldest.
  private readonly ids = new Set<string>();

  constructor(private readonly max = HEARD_MAX) {}

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }
}
