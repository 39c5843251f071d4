import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import os from 'node:os';
import { ProblemError } from '../errors/problem';
import { getClock } from '../host/clock';
import { runsPortFor, type RunsPort } from '../triggers/runs-port';
import { readEntry, writeEntry, type TriggerLogEntry, type TriggerSource } from '../triggers/trigger-log';
import { decideOverlap, planDue } from './due';
import { compileRule } from './rules';
import { timeRuleOf } from './schema';
import {
  enabledScheduleNames,
  readSchedule,
  replaceSchedule,
  updateSchedule,
  type ScheduleDoc,
} from './store';

/**
 * The schedule evaluator: turns due occurrences into runs. The timer function calls
 * `evaluateDueSchedules` every few seconds; `POST /api/schedules/{name}/evaluate` calls `evaluateSchedule`.
 *
 * Exactly one run per occurrence, with any number of evaluators:
 * 1. The evaluator takes a short lease on the schedule with an etag-conditional replace; a second
 *    evaluator (a timer that fired twice, another host) loses the race and leaves the schedule alone.
 * 2. For each occurrence it writes the decision to the trigger log before acting (`starting`), then
 *    starts the run with idempotency key `schedule:<name>:<occurrence ISO>`, then records `started`.
 *    A crash anywhere leaves the lease to expire; the next evaluation finds the log entry and finishes the
 *    same decision, and the idempotency key makes the repeated start return the same run.
 * 3. Finally it advances `lastEvaluated` and releases the lease (etag-conditional again).
 */

export interface EvaluateDeps {
  runs: RunsPort;
  now(): number;
  /** How late an occurrence may be and still count as on time. @default 60 s (SLUICE_SCHEDULE_GRACE_SECONDS) */
  graceMs: number;
  /** How long an evaluator holds a schedule before another may take over. @default 60 s (SLUICE_SCHEDULE_LEASE_SECONDS) */
  leaseMs: number;
  /** This evaluator's identity in leases. */
  owner: string;
  log?: (message: string) => void;
}

const seconds = (v: string | undefined, dflt: number): number => {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n * 1000 : dflt * 1000;
};

const OWNER = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/** `context`: the invocation, whose `durableClient` binding starts and cancels runs (see runsPortFor). */
export function defaultEvaluateDeps(log?: (m: string) => void, context?: InvocationContext): EvaluateDeps {
  return {
    runs: runsPortFor(context),
    now: () => getClock().now(),
    graceMs: seconds(process.env.SLUICE_SCHEDULE_GRACE_SECONDS, 60),
    leaseMs: seconds(process.env.SLUICE_SCHEDULE_LEASE_SECONDS, 60),
    owner: OWNER,
    ...(log ? { log } : {}),
  };
}

export interface OccurrenceOutcome {
  occurrence: string;
  decision: TriggerLogEntry['decision'];
  runId?: string;
  canceledRunId?: string;
  late?: boolean;
  reason?: string;
}

export interface ScheduleEvaluation {
  schedule: string;
  /** Why nothing was evaluated (disabled, held by another evaluator, nothing due). */
  note?: string;
  outcomes: OccurrenceOutcome[];
  missed?: { count: number; countIsLowerBound: boolean; first: string; last: string; reason: string };
  evaluatedThrough?: string;
}

const iso = (t: number): string => new Date(t).toISOString();

/** A start failure that retrying will not fix (no such pipeline, bad parameters, pipeline disabled). */
function isPermanent(e: unknown): e is ProblemError {
  return e instanceof ProblemError && e.status >= 400 && e.status < 500;
}

export async function evaluateDueSchedules(deps: EvaluateDeps): Promise<ScheduleEvaluation[]> {
  const out: ScheduleEvaluation[] = [];
  for (const name of await enabledScheduleNames()) {
    try {
      const r = await evaluateSchedule(name, deps);
      if (r.outcomes.length || r.missed) out.push(r);
    } catch (e) {
      // One schedule's trouble (a Cosmos hiccup) must not starve the others; the next tick retries it.
      deps.log?.(`schedule ${name}: evaluation failed, will retry: ${(e as Error).message}`);
    }
  }
  return out;
}

export async function evaluateSchedule(name: string, deps: EvaluateDeps): Promise<ScheduleEvaluation> {
  const doc = await readSchedule(name);
  if (!doc) return { schedule: name, note: 'no such schedule', outcomes: [] };
  if (!doc.enabled) return { schedule: name, note: 'disabled', outcomes: [] };
  const now = deps.now();
  if (doc.lease && Date.parse(doc.lease.until) > now && doc.lease.owner !== deps.owner)
    return { schedule: name, note: `being evaluated by ${doc.lease.owner}`, outcomes: [] };

  const plan = planDue({
    rule: compileRule(timeRuleOf(doc)),
    lastEvaluated: Date.parse(doc.lastEvaluated),
    now,
    catchUp: doc.catchUp,
    catchUpLimit: doc.catchUpLimit,
    graceMs: deps.graceMs,
  });
  if (plan.fire.length === 0 && !plan.missed) return { schedule: name, note: 'nothing due', outcomes: [] };

  const claimed = await replaceSchedule(
    { ...doc, lease: { owner: deps.owner, until: iso(now + deps.leaseMs) } },
    doc._etag!,
  );
  if (!claimed) return { schedule: name, note: 'another evaluator took it', outcomes: [] };

  const source: TriggerSource = `schedule:${name}`;
  const result: ScheduleEvaluation = { schedule: name, outcomes: [] };
  let lastRun = doc.lastRun;
  let complete = false;
  try {
    for (const { occurrence: t, late } of plan.fire) {
      const outcome = await decideOccurrence(doc, source, iso(t), late, lastRun, deps);
      result.outcomes.push(outcome);
      if (outcome.runId && outcome.decision !== 'skipped' && outcome.decision !== 'failed')
        lastRun = { runId: outcome.runId, occurrence: outcome.occurrence };
    }
    if (plan.missed) {
      const m = plan.missed;
      result.missed = {
        count: m.count,
        countIsLowerBound: m.countIsLowerBound,
        first: iso(m.first),
        last: iso(m.last),
        reason: m.reason,
      };
      await writeEntry({
        id: `missed:${iso(m.first)}`,
        source,
        at: iso(now),
        decision: 'missed',
        occurrence: iso(m.first),
        until: iso(m.last),
        count: m.count,
        countIsLowerBound: m.countIsLowerBound,
        reason: m.reason,
      });
    }
    complete = true;
    result.evaluatedThrough = iso(plan.evaluatedThrough);
  } finally {
    // Release the lease either way; only a complete evaluation moves lastEvaluated forward.
    await updateSchedule(name, (d) => {
      if (complete && Date.parse(d.lastEvaluated) < plan.evaluatedThrough)
        d.lastEvaluated = iso(plan.evaluatedThrough);
      if (lastRun && (!d.lastRun || d.lastRun.occurrence < lastRun.occurrence)) d.lastRun = lastRun;
      if (d.lease?.owner === deps.owner) delete d.lease;
    }).catch((e) =>
      deps.log?.(
        `schedule ${name}: cannot record the evaluation (${(e as Error).message}); it will be redone.`,
      ),
    );
  }
  return result;
}

async function decideOccurrence(
  doc: ScheduleDoc,
  source: TriggerSource,
  occurrence: string,
  late: boolean,
  lastRun: ScheduleDoc['lastRun'],
  deps: EvaluateDeps,
): Promise<OccurrenceOutcome> {
  const id = `occ:${occurrence}`;
  const key = `schedule:${doc.name}:${occurrence}`;
  const at = (): string => iso(deps.now());
  const existing = await readEntry(source, id);
  if (existing && existing.decision !== 'starting') return outcomeOf(existing);

  let canceledRunId = existing?.canceledRunId;
  if (!existing) {
    const previous = lastRun
      ? { runId: lastRun.runId, status: await deps.runs.runStatus(lastRun.runId) }
      : undefined;
    const decision = decideOverlap(doc.overlap, previous);
    if (decision.action === 'skip') {
      const entry: TriggerLogEntry = {
        id,
        source,
        at: at(),
        decision: 'skipped',
        occurrence,
        late,
        reason: decision.reason,
      };
      await writeEntry(entry);
      return outcomeOf(entry);
    }
    if (decision.action === 'cancelPreviousThenStart') {
      canceledRunId = decision.cancelRunId;
      await writeEntry({
        id,
        source,
        at: at(),
        decision: 'starting',
        occurrence,
        late,
        idempotencyKey: key,
        canceledRunId,
      });
      await deps.runs
        .cancelRun(
          canceledRunId,
          `schedule "${doc.name}": occurrence ${occurrence} replaces it (overlap: cancelPrevious)`,
        )
        .catch((e) => {
          // The previous run ended on its own meanwhile (409) or is gone (404): nothing left to cancel.
          if (!isPermanent(e)) throw e;
        });
    }
  }
  await writeEntry({
    id,
    source,
    at: at(),
    decision: 'starting',
    occurrence,
    late,
    idempotencyKey: key,
    ...(canceledRunId ? { canceledRunId } : {}),
  });
  let runId: string;
  try {
    const r = await deps.runs.startRun(
      {
        pipeline: doc.pipeline,
        ...(doc.version !== undefined && doc.version !== null ? { version: doc.version } : {}),
        parameters: doc.parameters,
        inputs: doc.inputs,
        tags: doc.tags,
        idempotencyKey: key,
      },
      { type: 'schedule', schedule: doc.name, occurrence },
    );
    runId = r.runId;
  } catch (e) {
    if (!isPermanent(e)) throw e;
    const detail = e.errors?.length
      ? `${e.message} (${e.errors.map((p) => `${p.pointer}: ${p.message}`).join('; ')})`
      : e.message;
    const entry: TriggerLogEntry = {
      id,
      source,
      at: at(),
      decision: 'failed',
      occurrence,
      late,
      idempotencyKey: key,
      reason: `the run could not be started: ${detail}`,
    };
    await writeEntry(entry);
    deps.log?.(`schedule ${doc.name}: occurrence ${occurrence} failed to start: ${detail}`);
    return outcomeOf(entry);
  }
  const entry: TriggerLogEntry = {
    id,
    source,
    at: at(),
    decision: canceledRunId ? 'canceledPreviousAndStarted' : 'started',
    occurrence,
    late,
    idempotencyKey: key,
    runId,
    ...(canceledRunId ? { canceledRunId } : {}),
  };
  await writeEntry(entry);
  return outcomeOf(entry);
}

function outcomeOf(e: TriggerLogEntry): OccurrenceOutcome {
  const o: OccurrenceOutcome = { occurrence: e.occurrence!, decision: e.decision };
  if (e.runId) o.runId = e.runId;
  if (e.canceledRunId) o.canceledRunId = e.canceledRunId;
  if (e.late) o.late = true;
  if (e.reason) o.reason = e.reason;
  return o;
}
