import type { Logger } from 'pino';
import { errorText } from '../util/error-text.js';
import type { Person, WebexApi } from '../webex/types.js';
import type { Sender } from './command.js';

const TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 1000;

/** Who a person id is (email, display name, bot or not), remembered for a while to spare Webex a call per message. */
export class People {
  private readonly known = new Map<string, { person: Person; at: number }>();

  constructor(
    private readonly api: WebexApi,
    private readonly log: Logger,
  ) {}

  /**
   * `email` comes with a message; with it a failed lookup still yields a sender (a bot is then
   * recognised by its address). A card submit carries only the id: without a lookup, no sender.
   */
  async sender(id: string, email?: string): Promise<Sender> {
    const hit = this.known.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.person;
    try {
      const person = await this.api.getPerson(id);
      this.known.delete(id);
      this.known.set(id, { person, at: Date.now() });
      if (this.known.size > MAX_ENTRIES) this.known.delete(this.known.keys().next().value!);
      return person;
    } catch (err) {
      if (!email) throw err;
      this.log.warn({ event: 'person.lookup_failed', err: errorText(err) });
      return { id, email, displayName: email, isBot: /@webex\.bot$/i.test(email) };
    }
  }
}
