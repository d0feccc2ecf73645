import { submitData, type Card } from '../../bot/command.js';
import { inlineCode } from '../../bot/escape.js';
import type { NewTestingEntry } from '../../storage/index.js';
import { parseTargets } from './targets.js';

export const MAX_DAYS = 30;
const DAY_MS = 86_400_000;

export const FIELDS = ['tester', 'targets', 'what', 'start_date', 'start_time', 'end_date', 'end_time', 'ticket'] as const;
export const REQUIRED = ['tester', 'targets', 'what', 'end_date'] as const;

export function testingForm(): Card {
  const text = (id: string, label: string, extra: Record<string, unknown> = {}) => ({ type: 'Input.Text', id, label, ...extra });
  return {
    type: 'AdaptiveCard',
    version: '1.3',
    body: [
      { type: 'TextBlock', text: 'Register approved testing', weight: 'Bolder', size: 'Medium' },
      {
        type: 'TextBlock',
        text: 'Analysts will see that alerts from these targets are expected. Times are UTC.',
        wrap: true,
        isSubtle: true,
      },
      text('tester', 'Who is testing', { isRequired: true, placeholder: 'red team, vendor name', maxLength: 200 }),
      text('targets', 'Targets: hosts, IPs, CIDRs or URLs, one per line', {
        isRequired: true,
        isMultiline: true,
        placeholder: '10.1.2.0/24\nscanner.vendor.example',
      }),
      text('what', 'What and why', { isRequired: true, isMultiline: true, maxLength: 1000 }),
      { type: 'Input.Date', id: 'start_date', label: 'Start date (empty: now)' },
      { type: 'Input.Time', id: 'start_time', label: 'Start time' },
      { type: 'Input.Date', id: 'end_date', label: `End date (at most ${MAX_DAYS} days after the start)`, isRequired: true },
      { type: 'Input.Time', id: 'end_time', label: 'End time (empty: 23:59)' },
      text('ticket', 'Ticket reference (optional)', { maxLength: 100 }),
    ],
    actions: [{ type: 'Action.Submit', title: 'Register', data: submitData('testing') }],
  };
}

type Who = Pick<NewTestingEntry, 'createdByEmail' | 'createdByName'>;

/** The form's values as an entry, or what is wrong with them (in words for the person who sent them). */
export function entryFromForm(v: Record<string, string>, who: Who, now: number): { entry: NewTestingEntry } | { invalid: string } {
  const { targets, bad, tooMany } = parseTargets(v.targets ?? '');
  if (bad.length)
    return {
      invalid: `Not a host, IP, CIDR or URL: ${bad
        .slice(0, 5)
        .map((b) => inlineCode(b.slice(0, 80)))
        .join(', ')}.`,
    };
  if (tooMany) return { invalid: 'Too many targets (at most 50): register a CIDR or split the entry.' };
  if (!targets.length) return { invalid: 'Name at least one target.' };
  const start = v.start_date || v.start_time ? utc(v.start_date || isoDate(now), v.start_time || '00:00') : now;
  const end = utc(v.end_date ?? '', v.end_time || '23:59');
  if (start === undefined) return { invalid: 'The start is not a date and time (YYYY-MM-DD, HH:MM).' };
  if (end === undefined) return { invalid: 'The end is not a date and time (YYYY-MM-DD, HH:MM).' };
  if (end <= start) return { invalid: 'The end must be after the start.' };
  if (end - start > MAX_DAYS * DAY_MS) return { invalid: `The end must be at most ${MAX_DAYS} days after the start.` };
  if (end <= now) return { invalid: 'The end is already past.' };
  const entry: NewTestingEntry = {
    tester: v.tester!.slice(0, 200),
    targets,
    what: v.what!.slice(0, 1000),
    startsAt: start,
    endsAt: end,
    ...(v.ticket ? { ticket: v.ticket.slice(0, 100) } : {}),
    ...who,
    createdAt: now,
  };
  return { entry };
}

function utc(date: string, time: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}(:\d{2})?$/.test(time)) return undefined;
  const at = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}Z`);
  // Date.parse rolls 2026-02-31 over to March; a date that does not round-trip was not a date.
  return Number.isNaN(at) || isoDate(at) !== date ? undefined : at;
}

function isoDate(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** `2026-11-30 14:00 UTC` */
export function when(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
