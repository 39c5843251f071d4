import { z } from 'zod';
import { pointer, type FieldProblem } from '../errors/problem';
import { checkCron, isValidTimeZone, parseStartTime, WEEK_DAYS, type TimeRule } from './rules';

/**
 * The schedule document format. One zod schema drives validation, the TypeScript types and the JSON
 * Schema in the OpenAPI document; rules zod cannot express (cron syntax, time zones, which recurrence
 * fields fit which frequency) are checked in `validateSchedule` so that every problem comes back at once.
 */

const FREQUENCIES = ['minute', 'hour', 'day', 'week', 'month'] as const;

export const SCHEDULE_NAME_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const NAME_RULE =
  'lowercase letters, digits and "-", 3–63 characters, starting and ending with a letter or digit';

/** @default 100 */
export const DEFAULT_CATCH_UP_LIMIT = 100;
export const MAX_CATCH_UP_LIMIT = 1000;

export const RecurrenceSchema = z.strictObject({
  frequency: z.enum(FREQUENCIES).meta({ description: 'minute, hour, day, week or month' }),
  interval: z.int().min(1).max(1000).default(1).meta({ description: 'Units of frequency between periods.' }),
  startTime: z
    .string()
    .optional()
    .meta({
      description:
        'Local wall-clock time in the zone anchoring the pattern (e.g. 2026-01-05T09:00:00). ' +
        'Defaults to the creation time. Only occurrences after creation ever run.',
    }),
  timeZone: z.string().optional().meta({ description: 'IANA zone; defaults to the schedule timeZone.' }),
  hours: z.array(z.int().min(0).max(23)).max(24).optional(),
  minutes: z.array(z.int().min(0).max(59)).max(60).optional(),
  weekDays: z
    .array(z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(WEEK_DAYS)))
    .max(7)
    .optional(),
});

const ScheduleFields = {
  description: z.string().max(2000).optional(),
  pipeline: z.string().regex(SCHEDULE_NAME_RE, `a pipeline name: ${NAME_RULE}`),
  version: z
    .int()
    .min(1)
    .optional()
    .meta({ description: "Absent: the pipeline's default version at fire time." }),
  parameters: z.record(z.string(), z.unknown()).default({}),
  inputs: z.record(z.string(), z.string()).default({}),
  tags: z.record(z.string(), z.string()).default({}),
  cron: z
    .string()
    .max(200)
    .optional()
    .meta({ description: '5 fields (minute first) or 6 (seconds first), evaluated in timeZone.' }),
  recurrence: RecurrenceSchema.optional(),
  timeZone: z.string().default('UTC').meta({ description: 'IANA time zone name.' }),
  enabled: z.boolean().default(true),
  overlap: z.enum(['skip', 'allow', 'cancelPrevious']).default('skip'),
  catchUp: z.enum(['none', 'latest', 'all']).default('latest'),
  catchUpLimit: z.int().min(1).max(MAX_CATCH_UP_LIMIT).default(DEFAULT_CATCH_UP_LIMIT),
};

export const ScheduleSpecSchema = z.strictObject({
  name: z.string().regex(SCHEDULE_NAME_RE, `a schedule name: ${NAME_RULE}`),
  ...ScheduleFields,
});

/** PATCH: any field but the name; `cron` and `recurrence` replace each other. */
export const SchedulePatchSchema = z.strictObject({
  description: ScheduleFields.description,
  pipeline: ScheduleFields.pipeline.optional(),
  version: ScheduleFields.version.nullable(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z.record(z.string(), z.string()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  cron: ScheduleFields.cron,
  recurrence: RecurrenceSchema.optional(),
  timeZone: z.string().optional(),
  enabled: z.boolean().optional(),
  overlap: z.enum(['skip', 'allow', 'cancelPrevious']).optional(),
  catchUp: z.enum(['none', 'latest', 'all']).optional(),
  catchUpLimit: z.int().min(1).max(MAX_CATCH_UP_LIMIT).optional(),
});

export type ScheduleSpec = z.output<typeof ScheduleSpecSchema>;
export type SchedulePatch = z.output<typeof SchedulePatchSchema>;

type Result<T> = { ok: true; value: T; errors: [] } | { ok: false; errors: FieldProblem[] };

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fromZod(issues: z.core.$ZodIssue[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const i of issues) {
    const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys)
        out.push({ pointer: pointer([...path, k]), message: `"${k}" is not a schedule field; remove it.` });
    } else out.push({ pointer: pointer(path), message: i.message });
  }
  return out;
}

/** Problems zod cannot see: the rule itself. `doc` is the merged schedule (after defaults). */
export function ruleProblems(doc: {
  cron?: string | undefined;
  recurrence?: z.output<typeof RecurrenceSchema> | undefined;
  timeZone: string;
}): FieldProblem[] {
  const out: FieldProblem[] = [];
  const tzOk = isValidTimeZone(doc.timeZone);
  if (!tzOk)
    out.push({
      pointer: '/timeZone',
      message: `"${doc.timeZone}" is not an IANA time zone name; use one like "UTC", "Europe/Amsterdam" or "America/New_York".`,
    });
  const hasCron = doc.cron !== undefined;
  const hasRec = doc.recurrence !== undefined;
  if (hasCron === hasRec)
    out.push({
      pointer: hasCron ? '/recurrence' : '',
      message: hasCron
        ? 'Give either "cron" or "recurrence", not both.'
        : 'A schedule needs a time rule: "cron" (e.g. "0 2 * * *") or "recurrence" ({frequency, interval, …}).',
    });
  if (hasCron && tzOk) {
    const p = checkCron(doc.cron!, doc.timeZone);
    if (p) out.push({ pointer: '/cron', message: p });
  }
  if (hasRec) {
    const r = doc.recurrence!;
    const zone = r.timeZone ?? doc.timeZone;
    if (r.timeZone !== undefined && !isValidTimeZone(r.timeZone))
      out.push({
        pointer: '/recurrence/timeZone',
        message: `"${r.timeZone}" is not an IANA time zone name; use one like "UTC" or "Europe/Amsterdam".`,
      });
    if (r.startTime !== undefined && isValidTimeZone(zone) && !parseStartTime(r.startTime, zone))
      out.push({
        pointer: '/recurrence/startTime',
        message: `"${r.startTime}" is not an ISO date-time; use local wall-clock time such as "2026-01-05T09:00:00".`,
      });
    if (r.hours?.length && !['day', 'week', 'month'].includes(r.frequency))
      out.push({
        pointer: '/recurrence/hours',
        message: `"hours" applies to day, week and month recurrences, not "${r.frequency}"; remove it or change frequency.`,
      });
    if (r.minutes?.length && r.frequency === 'minute')
      out.push({
        pointer: '/recurrence/minutes',
        message: '"minutes" does not apply to a minute recurrence; use interval instead.',
      });
    if (r.weekDays?.length && r.frequency !== 'week')
      out.push({
        pointer: '/recurrence/weekDays',
        message: `"weekDays" applies to week recurrences only, not "${r.frequency}".`,
      });
  }
  return out;
}

/** Validates a create request (any JSON value) into a full spec with defaults. Never throws. */
export function validateSchedule(input: unknown): Result<ScheduleSpec> {
  if (!isObj(input))
    return {
      ok: false,
      errors: [
        { pointer: '', message: 'A schedule is a JSON object with name, pipeline and cron or recurrence.' },
      ],
    };
  const r = ScheduleSpecSchema.safeParse(input);
  if (!r.success) {
    // Still check the rule, so a bad name and a bad cron come back together.
    const errors = fromZod(r.error.issues);
    const rec = RecurrenceSchema.safeParse(input.recurrence);
    if (
      !errors.some(
        (e) =>
          e.pointer.startsWith('/cron') || e.pointer.startsWith('/recurrence') || e.pointer === '/timeZone',
      )
    )
      errors.push(
        ...ruleProblems({
          cron: typeof input.cron === 'string' ? input.cron : undefined,
          recurrence: rec.success ? rec.data : undefined,
          timeZone: typeof input.timeZone === 'string' ? input.timeZone : 'UTC',
        }),
      );
    return { ok: false, errors };
  }
  const errors = ruleProblems(r.data);
  return errors.length ? { ok: false, errors } : { ok: true, value: r.data, errors: [] };
}

/** Validates a PATCH body (shape only; the merged result is checked with `ruleProblems`). */
export function validatePatch(input: unknown): Result<SchedulePatch> {
  if (!isObj(input))
    return {
      ok: false,
      errors: [{ pointer: '', message: 'A schedule patch is a JSON object of fields to change.' }],
    };
  if ('name' in input)
    return {
      ok: false,
      errors: [{ pointer: '/name', message: 'A schedule cannot be renamed; create a new one.' }],
    };
  const r = SchedulePatchSchema.safeParse(input);
  return r.success ? { ok: true, value: r.data, errors: [] } : { ok: false, errors: fromZod(r.error.issues) };
}

/** The time rule of a valid schedule. */
export function timeRuleOf(s: Pick<ScheduleSpec, 'cron' | 'recurrence' | 'timeZone'>): TimeRule {
  if (s.cron !== undefined) return { cron: s.cron, timeZone: s.timeZone };
  const r = s.recurrence!;
  return {
    timeZone: s.timeZone,
    recurrence: {
      frequency: r.frequency,
      interval: r.interval,
      startTime: r.startTime!,
      timeZone: r.timeZone,
      hours: r.hours,
      minutes: r.minutes,
      weekDays: r.weekDays,
    },
  };
}
