import type { HealAction } from '../stats/stats.js';

/** After how many canary failures in a row the daemon rebuilds its Webex link, and restarts; 0 for never. */
export interface CanaryThresholds {
  rebuildAfter: number;
  restartAfter: number;
}

export const DEFAULT_CANARY_THRESHOLDS: CanaryThresholds = { rebuildAfter: 2, restartAfter: 3 };

/** What the canary is told to ask for after this many failures in a row (the daemon decides: a reload may change the thresholds). */
export function healFor(consecutiveFailures: number, t: CanaryThresholds): HealAction | undefined {
  if (t.restartAfter > 0 && consecutiveFailures >= t.restartAfter) return 'restart';
  if (t.rebuildAfter > 0 && consecutiveFailures >= t.rebuildAfter) return 'rebuild';
  return undefined;
}
