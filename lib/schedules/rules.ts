import { CronExpressionParser } from 'cron-parser';
import { DateTime, IANAZone } from 'luxon';

/**
 * Time rules: when a schedule fires. Pure (no clock, no I/O): every function takes the instants it
 * needs. Cron expressions go to cron-parser (with its tz support); recurrences are computed with
 * luxon in the schedule's IANA zone. Both follow one DST rule, documented in lib/schedules/README.md:
 * - a wall-clock time inside a spring-forward gap fires once, shifted forward by the gap (02:30 → 03:30);
 * - a wall-clock time repeated by a fall-back fires once, at its first (daylight-time) instance;
 * - rules that are about elapsed time (cron with a wildcard hour, minute/hour recurrences) keep their
 *   spacing in absolute time, so `*\/30 * * * *` fires at 01:00 and 01:30 in both passes of a fall-back.
 */

export type Frequency = 'minute' | 'hour' | 'day' | 'week' | 'month';
export const FREQUENCIES: readonly Frequency[] = ['minute', 'hour', 'day', 'week', 'month'];
export const WEEK_DAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export type WeekDay = (typeof WEEK_DAYS)[number];

export interface Recurrence {
  frequency: Frequency;
  /** Units of `frequency` between periods. @default 1 */
  interval: number;
  /** Local wall-clock time in the rule's zone (`2026-01-05T09:00:00`) anchoring the pattern. */
  startTime: string;
  /** Overrides the schedule's zone for this recurrence. */
  timeZone?: string;
  /** Hours of the day (day, week, month). @default the startTime's hour */
  hours?: number[];
  /** Minutes of the hour (hour, day, week, month). @default the startTime's minute */
  minutes?: number[];
  /** Days of the week (week only). @default the startTime's weekday */
  weekDays?: WeekDay[];
}

export type TimeRule = { cron: string; timeZone: string } | { recurrence: Recurrence; timeZone: string };

/** A compiled rule: occurrences strictly after or strictly before an instant (ms since epoch). */
export interface CompiledRule {
  /** The first occurrence strictly after `after`, or undefined if there is none. */
  next(after: number): number | undefined;
  /** The last occurrence strictly before `before`, or undefined if there is none. */
  prev(before: number): number | undefined;
  /** Occurrences strictly after `after`, ascending (cheaper than repeated `next` for cron). */
  forward(after: number): Iterator<number>;
  /** Occurrences strictly before `before`, descending. */
  backward(before: number): Iterator<number>;
}

/** `forward`/`backward` from `next`/`prev`, for rules without a cheaper way. */
function withIterators(r: Pick<CompiledRule, 'next' | 'prev'>): CompiledRule {
  return {
    ...r,
    *forward(after) {
      for (let t = r.next(after); t !== undefined; t = r.next(t)) yield t;
    },
    *backward(before) {
      for (let t = r.prev(before); t !== undefined; t = r.prev(t)) yield t;
    },
  };
}

/** Thrown for a rule that cannot be compiled; `pointer` is relative to the rule's owner. */
export class RuleError extends Error {
  override name = 'RuleError';
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

export function isValidTimeZone(zone: string): boolean {
  return typeof zone === 'string' && zone.length > 0 && IANAZone.isValidZone(zone);
}

/** Checks a cron expression: 5 fields (minute first) or 6 (seconds first), no aliases. */
export function checkCron(expr: string, timeZone: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6)
    return (
      `"${expr}" has ${fields.length} field(s); a cron expression has 5 ({minute} {hour} {day} {month} {weekday}) ` +
      `or 6 (a leading {second}) fields, e.g. "0 2 * * *" for 02:00 daily or "*/10 * * * * *" for every 10 seconds.`
    );
  try {
    const it = CronExpressionParser.parse(expr.trim(), { currentDate: new Date(0), tz: timeZone });
    it.next();
  } catch (e) {
    return `"${expr}" is not a valid cron expression: ${(e as Error).message}.`;
  }
  return undefined;
}

export function compileRule(rule: TimeRule): CompiledRule {
  if (!isValidTimeZone(rule.timeZone))
    throw new RuleError(
      '/timeZone',
      `"${rule.timeZone}" is not an IANA time zone name (e.g. "Europe/Amsterdam").`,
    );
  if ('cron' in rule) return compileCron(rule.cron, rule.timeZone);
  return compileRecurrence(rule.recurrence, rule.recurrence.timeZone ?? rule.timeZone);
}

function compileCron(expr: string, tz: string): CompiledRule {
  const problem = checkCron(expr, tz);
  if (problem) throw new RuleError('/cron', problem);
  const text = expr.trim();
  // One parsed expression per walk: parsing dominates the cost of a step.
  function* walk(from: number, dir: 'next' | 'prev'): Generator<number> {
    let it;
    try {
      it = CronExpressionParser.parse(text, { currentDate: new Date(from), tz });
    } catch {
      return;
    }
    for (;;) {
      let t: number;
      try {
        t = (dir === 'next' ? it.next() : it.prev()).getTime();
      } catch {
        // cron-parser throws when no occurrence exists within its search bound (e.g. "0 0 30 2 *").
        return;
      }
      // cron-parser's granularity is one second; an instant with milliseconds still means "strictly".
      if (dir === 'next' ? t > from : t < from) yield t;
    }
  }
  // cron-parser assumes whole-hour DST shifts; in a zone with another shift (Lord Howe Island's 30
  // minutes) it skips the occurrence that falls in the gap, so there the walk is on wall-clock time.
  const step = wholeHourDst(tz)
    ? walk
    : (from: number, dir: 'next' | 'prev') => walkWallClock(text, tz, from, dir);
  const first = (g: Iterator<number>): number | undefined => {
    const r = g.next();
    return r.done ? undefined : r.value;
  };
  return {
    next: (after) => first(step(after, 'next')),
    prev: (before) => first(step(before, 'prev')),
    forward: (after) => step(after, 'next'),
    backward: (before) => step(before, 'prev'),
  };
}

/** Whether every DST shift of `zone` (over this year and the next few) is a whole number of hours. */
function wholeHourDst(zone: string): boolean {
  const z = IANAZone.create(zone);
  const year = new Date().getUTCFullYear();
  const offsets = new Set<number>();
  for (let y = year - 1; y <= year + 3; y++)
    for (let m = 0; m < 12; m++) offsets.add(z.offset(Date.UTC(y, m, 15)));
  const list = [...offsets];
  return list.every((o) => (o - list[0]!) % 60 === 0);
}

/**
 * A cron walk on the zone's wall clock: cron-parser in UTC over local times, each local time mapped to
 * its instant by the DST rule (`wallClock`: a gap time shifts forward by the gap, a repeated time fires
 * at its first instance). The walk starts an hour beyond `from` since a mapped instant may lie up to
 * one shift away from its wall time; instants are yielded strictly monotonic, so a gap time and the
 * time it shifts onto fire once.
 */
function* walkWallClock(text: string, tz: string, from: number, dir: 'next' | 'prev'): Generator<number> {
  const local = DateTime.fromMillis(from, { zone: tz });
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  let it;
  try {
    const start = asUtc + (dir === 'next' ? -3_600_000 : 3_600_000);
    it = CronExpressionParser.parse(text, { currentDate: new Date(start), tz: 'UTC' });
  } catch {
    return;
  }
  let last = from;
  for (;;) {
    let w: Date;
    try {
      w = dir === 'next' ? it.next().toDate() : it.prev().toDate();
    } catch {
      return;
    }
    const day = DateTime.fromObject(
      { year: w.getUTCFullYear(), month: w.getUTCMonth() + 1, day: w.getUTCDate() },
      { zone: tz },
    );
    const t = wallClock(day, w.getUTCHours(), w.getUTCMinutes(), w.getUTCSeconds(), tz);
    if (dir === 'next' ? t > last : t < last) {
      last = t;
      yield t;
    }
  }
}

const WEEKDAY_NUMBER: Record<WeekDay, number> = {
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
  sunday: 7,
};

/** Parses a recurrence startTime: local wall-clock time in `zone`, or an instant with an offset. */
export function parseStartTime(startTime: string, zone: string): DateTime | undefined {
  const d = DateTime.fromISO(startTime, { zone, setZone: false });
  if (!d.isValid) return undefined;
  return d.setZone(zone);
}

/** How many periods to scan before deciding a recurrence has no more occurrences (Feb 29 yearly etc.). */
const MAX_EMPTY_PERIODS = 2000;

function compileRecurrence(r: Recurrence, zone: string): CompiledRule {
  if (!isValidTimeZone(zone))
    throw new RuleError(
      '/recurrence/timeZone',
      `"${zone}" is not an IANA time zone name (e.g. "Europe/Amsterdam").`,
    );
  const start = parseStartTime(r.startTime, zone);
  if (!start)
    throw new RuleError(
      '/recurrence/startTime',
      `"${r.startTime}" is not an ISO date-time; use local wall-clock time such as "2026-01-05T09:00:00".`,
    );
  const interval = Math.max(1, Math.floor(r.interval || 1));
  const startMs = start.toMillis();

  if (r.frequency === 'minute' || (r.frequency === 'hour' && !r.minutes?.length)) {
    // Elapsed-time rules: fixed spacing in absolute time from the start.
    const period = interval * (r.frequency === 'minute' ? 60_000 : 3_600_000);
    return withIterators({
      next(after) {
        if (after < startMs) return startMs;
        return startMs + (Math.floor((after - startMs) / period) + 1) * period;
      },
      prev(before) {
        if (before <= startMs) return undefined;
        return startMs + Math.floor((before - startMs - 1) / period) * period;
      },
    });
  }

  if (r.frequency === 'hour') {
    // Every `interval` hours (absolute), at the listed minutes of that hour.
    const hourMs = 3_600_000;
    const base = start.startOf('hour').toMillis();
    const minutes = [...new Set(r.minutes!)].sort((a, b) => a - b);
    const periodTimes = (k: number): number[] =>
      minutes.map((m) => base + k * interval * hourMs + m * 60_000).filter((t) => t >= startMs);
    const periodOf = (t: number): number => Math.floor((t - base) / (interval * hourMs));
    return scanPeriods(periodTimes, periodOf);
  }

  const hours = r.hours?.length ? [...new Set(r.hours)].sort((a, b) => a - b) : [start.hour];
  const minutes = r.minutes?.length ? [...new Set(r.minutes)].sort((a, b) => a - b) : [start.minute];
  const second = r.hours?.length || r.minutes?.length ? 0 : start.second;
  const timesOn = (day: DateTime): number[] => {
    const out: number[] = [];
    for (const hour of hours)
      for (const minute of minutes) {
        const t = wallClock(day, hour, minute, second, zone);
        if (t >= startMs) out.push(t);
      }
    return [...new Set(out)].sort((a, b) => a - b);
  };
  const startDay = start.startOf('day');

  if (r.frequency === 'day') {
    const periodTimes = (k: number): number[] => timesOn(startDay.plus({ days: k * interval }));
    const periodOf = (t: number): number =>
      Math.floor(
        Math.round(DateTime.fromMillis(t, { zone }).startOf('day').diff(startDay, 'days').days) / interval,
      );
    return scanPeriods(periodTimes, periodOf);
  }

  if (r.frequency === 'week') {
    const days = r.weekDays?.length
      ? [...new Set(r.weekDays.map((d) => WEEKDAY_NUMBER[d]))].sort((a, b) => a - b)
      : [start.weekday];
    const startWeek = startDay.startOf('week'); // ISO weeks start on Monday
    const periodTimes = (k: number): number[] => {
      const week = startWeek.plus({ weeks: k * interval });
      return days.flatMap((wd) => timesOn(week.plus({ days: wd - 1 })));
    };
    const periodOf = (t: number): number => {
      const w = DateTime.fromMillis(t, { zone }).startOf('week');
      return Math.floor(Math.round(w.diff(startWeek, 'days').days / 7) / interval);
    };
    return scanPeriods(periodTimes, periodOf);
  }

  // month: the startTime's day of the month; months without that day are skipped (no clamping to 30/28).
  const startMonth = startDay.startOf('month');
  const dayOfMonth = start.day;
  const periodTimes = (k: number): number[] => {
    const month = startMonth.plus({ months: k * interval });
    if (dayOfMonth > (month.daysInMonth ?? 31)) return [];
    return timesOn(month.set({ day: dayOfMonth }));
  };
  const periodOf = (t: number): number => {
    const d = DateTime.fromMillis(t, { zone });
    const months = (d.year - startMonth.year) * 12 + (d.month - startMonth.month);
    return Math.floor(months / interval);
  };
  return scanPeriods(periodTimes, periodOf);
}

/**
 * The instant of a local wall-clock time. luxon moves a time in a spring-forward gap forward by the gap
 * (as cron-parser does); for a time repeated by a fall-back luxon picks the second instance, so this
 * looks for an earlier instant with the same wall-clock reading and takes it: the first instance wins.
 */
function wallClock(day: DateTime, hour: number, minute: number, second: number, zone: string): number {
  const want = { year: day.year, month: day.month, day: day.day, hour, minute, second };
  const t = DateTime.fromObject(want, { zone }).toMillis();
  // DST shifts are one hour almost everywhere, 30 minutes on Lord Howe Island.
  for (const shift of [3_600_000, 1_800_000]) {
    const e = DateTime.fromMillis(t - shift, { zone });
    if (
      e.year === want.year &&
      e.month === want.month &&
      e.day === want.day &&
      e.hour === hour &&
      e.minute === minute
    )
      return t - shift;
  }
  return t;
}

/**
 * Occurrence search over numbered periods (period 0 holds the start). `periodTimes(k)` lists period k's
 * occurrences in order; `periodOf(t)` says which period an instant falls in.
 */
function scanPeriods(periodTimes: (k: number) => number[], periodOf: (t: number) => number): CompiledRule {
  return withIterators({
    next(after) {
      let k = Math.max(0, periodOf(after) - 1);
      for (let empty = 0; empty < MAX_EMPTY_PERIODS; k++) {
        const times = periodTimes(k);
        const t = times.find((x) => x > after);
        if (t !== undefined) return t;
        if (times.length === 0 || times[times.length - 1]! <= after) empty++;
      }
      return undefined;
    },
    prev(before) {
      let k = periodOf(before) + 1;
      for (let scanned = 0; k >= 0 && scanned < MAX_EMPTY_PERIODS; k--, scanned++) {
        const times = periodTimes(k);
        for (let i = times.length - 1; i >= 0; i--) if (times[i]! < before) return times[i];
      }
      return undefined;
    },
  });
}

/** The next `count` occurrences strictly after `after`. */
export function nextOccurrences(rule: CompiledRule, after: number, count: number): number[] {
  const out: number[] = [];
  const it = rule.forward(after);
  while (out.length < count) {
    const r = it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Occurrences in `(after, until]`, oldest first, at most `cap` of them (the oldest `cap`). */
export function occurrencesBetween(rule: CompiledRule, after: number, until: number, cap: number): number[] {
  const out: number[] = [];
  const it = rule.forward(after);
  while (out.length < cap) {
    const r = it.next();
    if (r.done || r.value > until) break;
    out.push(r.value);
  }
  return out;
}

/** The latest `count` occurrences in `(after, until]`, oldest first. */
export function latestOccurrences(rule: CompiledRule, after: number, until: number, count: number): number[] {
  const out: number[] = [];
  const it = rule.backward(until + 1);
  while (out.length < count) {
    const r = it.next();
    if (r.done || r.value <= after) break;
    out.push(r.value);
  }
  return out.reverse();
}
