import { firstSighting, handled, intake, type IntakeDeps } from '../connection/intake.js';
import type { IncomingActivity, IncomingMessage, WebexHistory } from '../webex/types.js';
import { listWindow, type ListLimits, type ListWindow, type ListingTotals, type SpaceFindings } from './lister.js';

export interface RoundDeps extends IntakeDeps {
  history: WebexHistory;
  limits: ListLimits;
  /** Older messages are not run: the newest of them in each space is answered with a notice instead (by the dispatcher). */
  maxAgeMs: number;
  now: () => number;
  /** Each space's answering, for the drain at shutdown. */
  track: (answering: Promise<void>) => void;
}

export interface RoundCounts extends ListingTotals {
  /** Messages in the window from someone else. */
  found: number;
  /** Taken for handling (answered, or refused by the access rules, like a live one). */
  answered: number;
  /** Seen before, live or by an earlier round. */
  alreadyAnswered: number;
  /** Older than the max age, so not run. */
  tooOld: number;
}

/** Where a caught-up activity came from, in the log (`activity.duplicate` names the socket otherwise). */
const VIA = 'catch-up';

/**
 * One catch-up round over a window: every message found takes the live path (intake: the same
 * de-duplication and handler as a socket's), oldest first within a space, while other spaces are
 * still being listed. Resolves once every space found has been answered.
 */
export async function runRound(d: RoundDeps, w: ListWindow, signal: AbortSignal): Promise<RoundCounts> {
  const counts = { found: 0, answered: 0, alreadyAnswered: 0, tooOld: 0 };
  const answering: Promise<void>[] = [];

  const answerSpace = async ({ messages }: SpaceFindings): Promise<void> => {
    if (signal.aborted) return;
    counts.found += messages.length;
    const cutoff = d.now() - d.maxAgeMs;
    // Too old to run: each is recorded as seen; the newest not seen before gets the one notice.
    let notice: IncomingMessage | undefined;
    for (const m of messages.filter((m) => m.created < cutoff)) {
      if (firstSighting(d, m.id)) {
        counts.tooOld += 1;
        notice = m;
      } else counts.alreadyAnswered += 1;
    }
    if (notice) await handled(d, activityOf(notice));
    for (const m of messages.filter((m) => m.created >= cutoff)) {
      if (signal.aborted) return;
      const handling = intake(d, activityOf(m), VIA);
      if (!handling) {
        counts.alreadyAnswered += 1;
        continue;
      }
      counts.answered += 1;
      await handling;
    }
  };

  const totals = await listWindow(d.history, w, {
    limits: d.limits,
    log: d.log,
    signal,
    found: (f) => {
      const a = answerSpace(f);
      d.track(a);
      answering.push(a);
    },
  });
  await Promise.all(answering);
  return { ...totals, ...counts };
}

function activityOf(m: IncomingMessage): IncomingActivity {
  return { id: m.id, kind: 'message', actorId: m.personId, roomId: m.roomId };
}
