// On call: `who` is on call now and next, `rotation` the coming shifts, from a roster file: the
// setting TOODLES_MODULE_ONCALL_ROSTER, else oncall-roster.json beside this file. The file is read
// for every question, so an edit (a swap) counts at once, without a reload.
//
// The roster (JSON): shifts of `shiftDays` days from `start`, the people taking turns in order, and
// swaps where someone covers part of a shift; times shown in `timeZone` (default UTC):
//   { "start": "2026-01-05T09:00:00Z", "shiftDays": 7, "timeZone": "Europe/London",
//     "people": [{ "name": "Alice Example", "email": "alice@example.com", "phone": "+44 20 7946 0001" }, ...],
//     "swaps": [{ "from": "2026-01-07T09:00:00Z", "until": "2026-01-08T09:00:00Z", "email": "bob@example.com" }] }
import { readFile } from 'node:fs/promises';
import { URL } from 'node:url';

export const apiVersion = 1;

const DAY_MS = 86_400_000;
const DEFAULT_SHIFTS = 6;
const MAX_SHIFTS = 26;

/** @type {import('toodles/command-api').ModuleCommand} */
const who = {
  keyword: 'who',
  aliases: ['oncall'],
  description: 'who is on call now, and who is next',
  async run(ctx) {
    const roster = await readRoster(ctx);
    const now = Date.now();
    const shift = shiftAt(roster, now);
    const current = coverAt(roster, now) ?? shift.person;
    const next = shiftAt(roster, shift.end).person;
    const covering = current === shift.person ? '' : ` (covering for ${ctx.escape.markdownText(shift.person.name)})`;
    await ctx.reply({
      markdown:
        `On call now: ${contact(ctx, current)}${covering}, until ${when(roster, shift.end)}.\n\n` +
        `Next: ${contact(ctx, next)}. Say \`rotation\` for the coming weeks.`,
    });
  },
};

/** @type {import('toodles/command-api').ModuleCommand} */
const rotation = {
  keyword: 'rotation',
  aliases: ['rota'],
  description: 'the coming on-call shifts, with swaps',
  help: `Say \`rotation\` for the next ${DEFAULT_SHIFTS} shifts, or \`rotation 12\` for more (up to ${MAX_SHIFTS}).`,
  async run(ctx) {
    const asked = ctx.args.trim();
    const count = asked ? Number(asked) : DEFAULT_SHIFTS;
    if (!Number.isInteger(count) || count < 1 || count > MAX_SHIFTS) {
      await ctx.reply({ markdown: `Say \`rotation\` or \`rotation <1 to ${MAX_SHIFTS}>\`.` });
      return 'invalid';
    }
    const roster = await readRoster(ctx);
    const lines = [];
    for (let shift = shiftAt(roster, Date.now()), i = 0; i < count; shift = shiftAt(roster, shift.end), i++) {
      lines.push(`- ${when(roster, shift.start)} to ${when(roster, shift.end)}: **${ctx.escape.markdownText(shift.person.name)}**`);
      for (const swap of roster.swaps.filter((s) => s.from < shift.end && s.until > shift.start)) {
        lines.push(
          `  - covered by ${ctx.escape.markdownText(swap.person.name)} from ${when(roster, swap.from)} to ${when(roster, swap.until)}`,
        );
      }
    }
    await ctx.reply({ markdown: `On-call rotation (times in ${roster.timeZone}):\n${lines.join('\n')}` });
  },
};

export default [who, rotation];

/** The shift that holds `at`: its bounds and whose turn it is (before the start, the first shift). */
function shiftAt(roster, at) {
  const length = roster.shiftDays * DAY_MS;
  const n = Math.max(0, Math.floor((at - roster.start) / length));
  const start = roster.start + n * length;
  return { start, end: start + length, person: roster.people[n % roster.people.length] };
}

/** Who covers `at` by a swap, if anyone. */
function coverAt(roster, at) {
  return roster.swaps.find((s) => s.from <= at && at < s.until)?.person;
}

function contact(ctx, person) {
  const { markdownText } = ctx.escape;
  return `**${markdownText(person.name)}** (${markdownText([person.email, person.phone].filter(Boolean).join(', '))})`;
}

function when(roster, at) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: roster.timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
}

/** The roster, checked: a mistake in it is named, with the file, in the log line of the failed answer. */
async function readRoster(ctx) {
  const path = ctx.setting('TOODLES_MODULE_ONCALL_ROSTER') ?? new URL('./oncall-roster.json', import.meta.url);
  const problem = (why) => new Error(`on-call roster ${path}: ${why}`);
  let raw;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw problem(err.message);
  }
  const start = Date.parse(raw.start);
  if (Number.isNaN(start)) throw problem('start must be a date and time, e.g. "2026-01-05T09:00:00Z"');
  if (!(raw.shiftDays > 0)) throw problem('shiftDays must be a number of days above 0');
  const timeZone = raw.timeZone ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
  } catch {
    throw problem(`timeZone ${JSON.stringify(timeZone)} is not a time zone (e.g. "Europe/London")`);
  }
  if (!Array.isArray(raw.people) || !raw.people.length) throw problem('people must list at least one person');
  for (const [i, p] of raw.people.entries()) {
    if (typeof p?.name !== 'string' || typeof p.email !== 'string') throw problem(`people[${i}] needs a name and an email`);
  }
  const swaps = (raw.swaps ?? []).map((s, i) => {
    const person = raw.people.find((p) => p.email.toLowerCase() === String(s?.email).toLowerCase());
    const from = Date.parse(s?.from);
    const until = Date.parse(s?.until);
    if (!person) throw problem(`swaps[${i}]: ${JSON.stringify(s?.email)} is not one of the people`);
    if (Number.isNaN(from) || Number.isNaN(until) || until <= from) throw problem(`swaps[${i}] needs a from before its until`);
    return { from, until, person };
  });
  return { start, shiftDays: raw.shiftDays, timeZone, people: raw.people, swaps };
}
