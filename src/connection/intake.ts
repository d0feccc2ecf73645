import type { Logger } from 'pino';
import { errorText } from '../util/error-text.js';
import type { IncomingActivity } from '../webex/types.js';
import type { SeenActivities } from './seen-activities.js';

/** What taking an activity needs: the one de-duplication record and the one handler. */
export interface IntakeDeps {
  seen: SeenActivities;
  handle: (activity: IncomingActivity) => Promise<void>;
  log: Logger;
}

/**
 * The one way an activity is taken for handling, whether a socket delivered it or a catch-up found
 * it: handled the first time its id is seen, ignored after. Resolves when the handler is done (the
 * caller tracks it for draining); undefined for a duplicate. Never rejects.
 */
export function intake(d: IntakeDeps, activity: IncomingActivity, via: string): Promise<void> | undefined {
  if (!firstSighting(d, activity.id)) {
    d.log.debug({ event: 'activity.duplicate', id: activity.id, connection: via });
    return undefined;
  }
  return handled(d, activity);
}

/** Whether the id is seen here for the first time (and from now on remembered). */
export function firstSighting(d: Pick<IntakeDeps, 'seen' | 'log'>, id: string): boolean {
  try {
    return d.seen.firstSighting(id);
  } catch (err) {
    // Answering twice beats never answering.
    d.log.error({ event: 'activity.record_failed', id, err: errorText(err) });
    return true;
  }
}

/** Runs the handler on an activity already recorded as seen; its failure is logged, never thrown. */
export function handled(d: Pick<IntakeDeps, 'handle' | 'log'>, activity: IncomingActivity): Promise<void> {
  // A synchronous throw becomes a rejection, logged like any other failure.
  return new Promise<void>((resolve) => resolve(d.handle(activity))).catch((err: unknown) => {
    d.log.error({ event: 'activity.failed', id: activity.id, err: errorText(err) });
  });
}
