import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { DateTime } from 'luxon';
import { invalid, ProblemError, type FieldProblem } from '../errors/problem';
import { getClock } from '../host/clock';
import { httpHandler, json, readJson } from '../http/handler';
import { getPipelineVersion } from '../pipelines/store';
import { resolveInputRefs, resolveParameters } from '../runs/parameters';
import { deleteSource, listEntries } from '../triggers/trigger-log';
import { defaultEvaluateDeps, evaluateSchedule } from './evaluate';
import { compileRule, nextOccurrences } from './rules';
import {
  ruleProblems,
  SCHEDULE_NAME_RE,
  timeRuleOf,
  validatePatch,
  validateSchedule,
  type SchedulePatch,
} from './schema';
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  updateSchedule,
  type ScheduleDoc,
} from './store';
import { paging } from '../http/paging';

/** HTTP handlers for /api/schedules…; registered in functions/schedules.ts. */

/** How many upcoming fire times GET shows. */
export const NEXT_FIRE_TIMES = 5;

const iso = (t: number): string => new Date(t).toISOString();
const now = (): number => getClock().now();

function scheduleName(req: HttpRequest): string {
  const name = req.params.name ?? '';
  if (!SCHEDULE_NAME_RE.test(name))
    throw invalid([
      {
        pointer: '/name',
        message: `"${name}" is not a schedule name: lowercase letters, digits and "-", 3–63 characters.`,
      },
    ]);
  return name;
}

/** A malformed continuation token is the caller's mistake (400), not a server fault. */
async function paged<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === 400)
      throw invalid([
        {
          pointer: '/continuationToken',
          message: 'The continuation token is not valid; start again without it.',
        },
      ]);
    throw e;
  }
}

/** The public view: the stored schedule without internals, plus the next fire times. */
export function scheduleView(doc: ScheduleDoc, at: number = now()): Record<string, unknown> {
  const { _etag, id: _id, lease: _lease, ...rest } = doc as ScheduleDoc & Record<string, unknown>;
  void _etag;
  let nextFireTimes: string[] = [];
  if (doc.enabled) {
    const after = Math.max(at, Date.parse(doc.lastEvaluated));
    nextFireTimes = nextOccurrences(compileRule(timeRuleOf(doc)), after, NEXT_FIRE_TIMES).map(iso);
  }
  const cleaned = Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('_')));
  return { ...cleaned, nextFireTimes };
}

const etagHeader = (doc: ScheduleDoc): Record<string, string> => (doc._etag ? { etag: doc._etag } : {});

/** The local wall-clock form luxon and the recurrence rules read, seconds precision. */
function localNow(zone: string, at: number): string {
  return DateTime.fromMillis(at, { zone }).startOf('second').toFormat("yyyy-LL-dd'T'HH:mm:ss");
}

/**
 * The pipeline must exist and accept the schedule's parameters and inputs now, so a typo fails at creation
 * rather than at 02:00. (Without a pinned version, the default version at fire time is used; if that one
 * disagrees later, the occurrence is recorded as failed with the reason.)
 */
async function checkAgainstPipeline(s: {
  pipeline: string;
  version?: number | undefined;
  parameters: Record<string, unknown>;
  inputs: Record<string, string>;
}): Promise<void> {
  let def;
  try {
    def = (await getPipelineVersion(s.pipeline, s.version)).definition;
  } catch (e) {
    if (e instanceof ProblemError && e.status === 404)
      throw invalid([
        {
          pointer: s.version !== undefined && /version/i.test(e.message) ? '/version' : '/pipeline',
          message: `${e.message} Publish the pipeline first (sluice publish), or fix the name.`,
        },
      ]);
    throw e;
  }
  const problems: FieldProblem[] = [];
  resolveParameters(def, s.parameters, problems);
  resolveInputRefs(def, s.inputs, problems);
  if (problems.length) throw invalid(problems);
}

async function create(req: HttpRequest): Promise<HttpResponseInit> {
  const body = await readJson(req);
  const r = validateSchedule(body);
  if (!r.ok) throw invalid(r.errors);
  const spec = r.value;
  await checkAgainstPipeline(spec);
  const t = now();
  if (spec.recurrence && spec.recurrence.startTime === undefined)
    // Stored explicitly so the pattern does not move; it is the creation time, which never fires itself.
    spec.recurrence.startTime = localNow(spec.recurrence.timeZone ?? spec.timeZone, t);
  const doc: ScheduleDoc = {
    ...spec,
    id: spec.name,
    createdAt: iso(t),
    updatedAt: iso(t),
    lastEvaluated: iso(t),
  };
  const saved = await createSchedule(doc);
  return json(201, scheduleView(saved, t), { location: `/api/schedules/${spec.name}`, ...etagHeader(saved) });
}

async function list(req: HttpRequest): Promise<HttpResponseInit> {
  const p = paging(req, 200);
  const page = await paged(() => listSchedules(p));
  const t = now();
  const body: Record<string, unknown> = { items: page.items.map((d) => scheduleView(d, t)) };
  if (page.continuationToken) {
    body.continuationToken = page.continuationToken;
    const u = new URL(req.url);
    u.searchParams.set('continuationToken', page.continuationToken);
    body.next = u.pathname + u.search;
  }
  return json(200, body);
}

async function show(req: HttpRequest): Promise<HttpResponseInit> {
  const doc = await getSchedule(scheduleName(req));
  return json(200, scheduleView(doc), etagHeader(doc));
}

/** Fields whose change restarts the schedule's clock: occurrences of the old rule are never caught up. */
const RULE_FIELDS = ['cron', 'recurrence', 'timeZone'] as const;

/** Fields checked against the pipeline when they change. */
const PIPELINE_FIELDS = ['pipeline', 'version', 'parameters', 'inputs'] as const;

/** Applies a validated patch to a stored schedule; throws a 400 when the merged rule is not valid. */
function applyPatch(d: ScheduleDoc, p: SchedulePatch, t: number): void {
  const wasEnabled = d.enabled;
  const ruleChanged = RULE_FIELDS.some((k) => p[k] !== undefined);
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (k === 'version' && v === null) delete d.version;
    else (d as unknown as Record<string, unknown>)[k] = v;
  }
  if (p.cron !== undefined) delete d.recurrence;
  if (p.recurrence !== undefined) {
    delete d.cron;
    if (d.recurrence!.startTime === undefined)
      d.recurrence!.startTime = localNow(d.recurrence!.timeZone ?? d.timeZone, t);
  }
  const problems = ruleProblems(d);
  if (problems.length) throw invalid(problems);
  // Re-enabling or changing the rule starts afresh from now: a disabled period is not caught up.
  if (ruleChanged || (!wasEnabled && d.enabled))
    d.lastEvaluated = iso(Math.max(t, Date.parse(d.lastEvaluated)));
  d.updatedAt = iso(t);
}

async function patch(req: HttpRequest): Promise<HttpResponseInit> {
  const name = scheduleName(req);
  const r = validatePatch(await readJson(req));
  if (!r.ok) throw invalid(r.errors);
  const p = r.value;
  const ifMatch = req.headers.get('if-match') ?? undefined;
  if (PIPELINE_FIELDS.some((k) => p[k] !== undefined)) {
    // Check the merged schedule against the pipeline before saving (no I/O inside the etag loop).
    const merged = structuredClone(await getSchedule(name));
    applyPatch(merged, p, now());
    await checkAgainstPipeline(merged);
  }
  const saved = await updateSchedule(name, (d) => applyPatch(d, p, now()), ifMatch);
  return json(200, scheduleView(saved), etagHeader(saved));
}

async function remove(req: HttpRequest): Promise<HttpResponseInit> {
  const name = scheduleName(req);
  await deleteSchedule(name);
  await deleteSource(`schedule:${name}`);
  return { status: 204 };
}

export const schedulesCollectionHandler = httpHandler(async (req) => {
  if (req.method === 'POST') return create(req);
  if (req.method === 'GET') return list(req);
  throw new ProblemError('method-not-allowed', `${req.method} is not supported here; use GET or POST.`);
});

export const scheduleHandler = httpHandler(async (req) => {
  switch (req.method) {
    case 'GET':
      return show(req);
    case 'PATCH':
      return patch(req);
    case 'DELETE':
      return remove(req);
    default:
      throw new ProblemError(
        'method-not-allowed',
        `${req.method} is not supported here; use GET, PATCH or DELETE.`,
      );
  }
});

export const scheduleHistoryHandler = httpHandler(async (req) => {
  const name = scheduleName(req);
  await getSchedule(name);
  const decision = req.query.get('decision') ?? undefined;
  const allowed = ['started', 'skipped', 'canceledPreviousAndStarted', 'missed', 'failed', 'starting'];
  if (decision !== undefined && !allowed.includes(decision))
    throw invalid([
      { pointer: '/decision', message: `decision must be one of ${allowed.join(', ')}; got "${decision}".` },
    ]);
  const page = await paged(() =>
    listEntries(`schedule:${name}`, {
      ...paging(req, 200),
      ...(decision ? { decision: decision as 'started' } : {}),
    }),
  );
  return json(200, page);
});

export const scheduleEvaluateHandler = httpHandler(async (req, ctx) => {
  const name = scheduleName(req);
  await getSchedule(name);
  const result = await evaluateSchedule(
    name,
    defaultEvaluateDeps((m) => ctx.warn(m), ctx),
  );
  return json(200, result);
});
