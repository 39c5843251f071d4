import type { JobResult } from '../compute/job';
import type { StepObservation } from './activity-contract';
import { miniBatchCounts, miniBatchErrors, type BatchState } from './parallel-plan';
import type { StepOutputRef, StepState } from './plan';
import { MAX_BATCH_ERRORS, MAX_METRICS_PER_STEP, type StepRecord } from './store';

/**
 * The projection from the plan (what the orchestration decides) to the stored step record (what users
 * read). Pure: the plan state is the truth for status, attempts, job and batches; observations add what
 * only a job's result knows (outputs, metrics, exit code, errors). `advance` applies these and nothing
 * else, so the two copies of a step's state cannot drift apart.
 */

const iso = (ms: number): string => new Date(ms).toISOString();

export function outputsOf(r: JobResult): Record<string, StepOutputRef> {
  const out: Record<string, StepOutputRef> = {};
  for (const o of r.outputs ?? []) out[o.name] = { type: o.type, hash: o.hash, size: o.size };
  return out;
}

const empty = (name: string): StepRecord => ({ name, status: 'NotStarted', attempts: 0 });

/** The record with a job's result applied (`s`: the step's plan state when the result arrived). */
export function observe(
  before: StepRecord | undefined,
  o: StepObservation,
  s: StepState | undefined,
): StepRecord {
  const rec: StepRecord = { ...(before ?? empty(o.step)) };
  const r = o.result;
  if (o.followed) {
    rec.reusedFrom = o.followed;
    delete rec.waitingFor;
    if (rec.cache)
      rec.cache = {
        ...rec.cache,
        decision: 'reused',
        reason: `computed once by run ${o.followed.runId} (single-flight), reused here`,
      };
  }
  if (r.startedAt) rec.startedAt = r.startedAt;
  rec.finishedAt = r.finishedAt;
  if (r.exitCode !== undefined) rec.exitCode = r.exitCode;
  if (r.processMs !== undefined) rec.processMs = r.processMs;
  if (r.environment) rec.environment = r.environment;
  if (r.images) rec.images = r.images;
  if (r.state === 'succeeded') {
    rec.outputs = outputsOf(r);
    delete rec.error;
  } else if (r.failure) {
    rec.error = { code: r.failure.code, message: r.failure.message };
    if (s && s.status === 'NotStarted')
      rec.attemptErrors = [
        ...(rec.attemptErrors ?? []),
        { attempt: rec.attempts, code: r.failure.code, message: r.failure.message },
      ];
  }
  if (r.metrics?.length) rec.metrics = r.metrics.slice(-MAX_METRICS_PER_STEP);
  return rec;
}

/** The record with what a dispatch decided merged in; fields the dispatch set to `undefined` are cleared. */
export function mergeDispatched(before: StepRecord | undefined, patch: StepRecord): StepRecord {
  const merged = { ...before, ...patch } as Record<string, unknown>;
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  return merged as unknown as StepRecord;
}

/** The record mirroring the plan state: status, attempts, job, batches, skip/cancel reasons. */
export function project(before: StepRecord | undefined, name: string, s: StepState, now: number): StepRecord {
  const rec: StepRecord = { ...(before ?? empty(name)) };
  rec.status = s.status;
  rec.attempts = s.attempt;
  if (s.jobId) rec.jobId = s.jobId;
  if (s.pool) rec.pool = s.pool;
  if (s.batches) {
    rec.batches = batchCounts(s.batches);
    const errors = mergeBatchErrors(rec.batchErrors, s.batches);
    if (errors.length) rec.batchErrors = errors;
  }
  if ((s.status === 'Skipped' || s.status === 'Canceled') && s.failure) {
    rec.error = { code: s.failure.code, message: s.failure.message };
    rec.finishedAt ??= iso(now);
  }
  if (s.status === 'Failed' && s.failure && !rec.error)
    rec.error = { code: s.failure.code, message: s.failure.message };
  return rec;
}

/** The step record's batch counts, in mini-batch units (a parallelRun shard counts its mini-batches). */
export function batchCounts(batches: readonly BatchState[]): NonNullable<StepRecord['batches']> {
  return miniBatchCounts(batches);
}

/**
 * The step's batch errors with the failures the plan state holds added, in mini-batch units (a shard's
 * reported errors; a batch's latest failure, kept while its retry runs, so every failed attempt passes
 * through here at least once).
 */
export function mergeBatchErrors(
  known: StepRecord['batchErrors'],
  batches: readonly BatchState[],
): NonNullable<StepRecord['batchErrors']> {
  const out = [...(known ?? [])];
  const seen = new Set(out.map((e) => `${e.batch}.${e.attempt}`));
  for (const e of miniBatchErrors(batches)) {
    if (seen.has(`${e.batch}.${e.attempt}`)) continue;
    seen.add(`${e.batch}.${e.attempt}`);
    out.push(e);
  }
  return out.slice(-MAX_BATCH_ERRORS);
}
