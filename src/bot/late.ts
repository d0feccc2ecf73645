/** What a person is told about a message answered late, or not run because it is too old. */

/** A message answered more than this long after it was sent says so. */
export const LATE_AFTER_MS = 30_000;

/** A time the bot could not hear (the catch-up's gap). */
export interface Offline {
  from: number;
  to: number;
}

/** The extra line of a late answer: the gap it fell in when known, else when it was sent. */
export function lateLine(sentAt: number, now: number, offline?: Offline): string {
  return offline
    ? `Answered late: I was offline from ${clock(offline.from, now)} to ${clock(offline.to, now)} UTC.`
    : `Answered late: you sent this at ${clock(sentAt, now)} UTC.`;
}

/** The one answer in a space to messages too old to run. */
export function tooOldText(sentAt: number, now: number): string {
  return `Sorry, I was offline when this was sent (${clock(sentAt, now)} UTC), so I did not run it. If you still need it, please send it again.`;
}

/** 10:01:05, with the date in front when it is not today's (UTC). */
function clock(at: number, now: number): string {
  const iso = new Date(at).toISOString();
  const time = iso.slice(11, 19);
  return iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}
