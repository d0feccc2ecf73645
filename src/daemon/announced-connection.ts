import type { SupervisorStatus } from '../connection/supervisor.js';
import type { BotIdentity, IncomingActivity } from '../webex/types.js';

/** States in which a socket receives and the bot knows who it is: it can answer. */
const ONLINE = new Set<SupervisorStatus['state']>(['online', 'rotating', 'draining']);

/**
 * The connection as the supervisor last announced it, for the parts made before the supervisor.
 * Every field but lastHeardAt changes only together with the state, and every state change is
 * announced, so these are as current as the supervisor's own. lastHeardAt is not kept: it moves
 * with every frame, and what needs it (/healthz) asks the supervisor.
 */
export class AnnouncedConnection {
  private latest: SupervisorStatus;
  /** Settles the first time the bot can answer. */
  readonly firstOnline: Promise<void>;
  private readonly wentOnline: () => void;

  constructor(startedAt: number) {
    this.latest = { state: 'starting', since: startedAt, reconnects: 0 };
    let settle = () => undefined as void; // the executor below runs at once and replaces it
    this.firstOnline = new Promise<void>((resolve) => (settle = resolve));
    this.wentOnline = settle;
  }

  /** The supervisor's onState. */
  update(status: SupervisorStatus): void {
    const { lastHeardAt: _movesWithEveryFrame, ...announced } = status;
    this.latest = announced;
    if (this.canAnswer()) this.wentOnline();
  }

  status(): SupervisorStatus {
    return this.latest;
  }

  bot(): BotIdentity | undefined {
    return this.latest.bot;
  }

  canAnswer(): boolean {
    return ONLINE.has(this.latest.state);
  }

  /** The bot's own messages come back over the socket too. */
  fromBot(activity: IncomingActivity): boolean {
    return activity.actorId === this.latest.bot?.id;
  }
}
