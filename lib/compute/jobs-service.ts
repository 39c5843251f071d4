/**
 * The service's writes on job rows: creating them (queued, with the pool's queue message, or for a
 * backend that hands the job to its engine), recording the engine's id, asking for a cancel, and the
 * verdicts the service gives (lost after a silent heartbeat, or the engine's own). Every state change is
 * conditional on the row's ETag, so a result the runner wrote first always wins.
 */
import { getClock } from '../host/clock';
import type { JobResult, JobSpec } from './job';
import {
  claimFields,
  encodeMessage,
  isLost,
  putChunks,
  queuedEntity,
  tableKey,
  type JobRow,
} from './job-row';
import { jobQueue, jobsTable, readJob, storageStatus, writeResult } from './jobs';
import { failureFor } from './failures';
import { isValidPool, type BackendKind } from './targets';
import { reserveInProcess, signalCancel, wakeAgents } from './wake';

/**
 * Creates the job row (state queued) and puts the message on `sluice-jobs-<pool>`, then wakes in-process
 * agents. Idempotent: a retried call for the same runId/jobId finds the row and, while it is still
 * queued, sends the message again (duplicates are harmless: only one claim succeeds).
 */
export async function enqueueJob(spec: JobSpec): Promise<JobRow> {
  if (!isValidPool(spec.pool))
    throw new Error(
      `Job ${spec.jobId}: pool "${spec.pool}" is not a valid pool name (lowercase letters, digits, single hyphens).`,
    );
  const table = await jobsTable();
  const entity = queuedEntity(spec);
  // An in-process agent with a free slot gets the job in the row's creation: created running under it,
  // no queue message, no claim round trip before the process starts.
  let reservation = reserveInProcess(spec.pool, spec);
  const claim = reservation ? claimFields(reservation.agentId) : undefined;
  if (claim) Object.assign(entity, claim);
  let row: JobRow;
  try {
    const res = await table.createEntity(entity);
    row = {
      runId: spec.runId,
      jobId: spec.jobId,
      state: claim ? 'running' : 'queued',
      pool: spec.pool,
      stepName: spec.stepName,
      attempt: spec.attempt,
      spec,
      createdAt: entity.createdAt as string,
      ...(claim
        ? { claimedBy: claim.claimedBy, claimedAt: claim.claimedAt, startedAt: claim.startedAt }
        : {}),
      ...(claim ? { heartbeatAt: claim.heartbeatAt } : {}),
      etag: res.etag!,
    };
  } catch (e) {
    reservation?.release();
    reservation = undefined;
    if (storageStatus(e) !== 409) throw e;
    row = (await readJob(spec.runId, spec.jobId))!;
  }
  if (reservation) {
    reservation.start(row);
    return row;
  }
  if (row.state === 'queued') {
    const q = await jobQueue(spec.pool);
    await q.sendMessage(encodeMessage({ runId: spec.runId, jobId: spec.jobId }), { messageTimeToLive: -1 });
    wakeAgents(spec.pool);
  }
  return row;
}

/**
 * Creates the job row (state queued) for a backend that hands the job to its engine itself (no queue
 * message). Idempotent: an existing row is returned as it is.
 */
export async function createJobRow(spec: JobSpec, backend: BackendKind): Promise<JobRow> {
  const table = await jobsTable();
  const entity = queuedEntity(spec, backend);
  try {
    const res = await table.createEntity(entity);
    return {
      runId: spec.runId,
      jobId: spec.jobId,
      state: 'queued',
      pool: spec.pool,
      stepName: spec.stepName,
      attempt: spec.attempt,
      spec,
      createdAt: entity.createdAt as string,
      backend,
      etag: res.etag!,
    };
  } catch (e) {
    if (storageStatus(e) !== 409) throw e;
    return (await readJob(spec.runId, spec.jobId))!;
  }
}

/** Records the engine's id of a job on its row (unconditional: it changes no state). */
export async function setExternal(runId: string, jobId: string, external: string): Promise<void> {
  const table = await jobsTable();
  await table.updateEntity({ partitionKey: tableKey(runId), rowKey: tableKey(jobId), external }, 'Merge');
}

/**
 * Writes a verdict the engine gave (lost, timeout) on a job that has no result yet, conditionally on the
 * row as read: a result written meanwhile wins. Returns whether the verdict was written.
 */
export async function writeVerdict(row: JobRow, result: JobResult): Promise<boolean> {
  if (row.state !== 'queued' && row.state !== 'running') return false;
  try {
    await writeResult(row, result);
    return true;
  } catch (e) {
    if (storageStatus(e) === 412) return false;
    throw e;
  }
}

/**
 * Asks for a job to stop. A queued job is canceled at once (no agent will start it); a running one is
 * flagged on its row, which its agent watches (and in-process agents hear immediately) and kills the
 * process group. Returns the row after the request, or undefined when there is no such job.
 */
export async function requestCancel(runId: string, jobId: string): Promise<JobRow | undefined> {
  const table = await jobsTable();
  for (let i = 0; i < 10; i++) {
    const row = await readJob(runId, jobId);
    if (!row) return undefined;
    if (row.state !== 'queued' && row.state !== 'running') return row;
    const patch: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
      partitionKey: tableKey(runId),
      rowKey: tableKey(jobId),
      cancelRequested: true,
    };
    if (row.state === 'queued') {
      const now = new Date(getClock().now()).toISOString();
      const f = failureFor({ kind: 'canceled' })!;
      const result: JobResult = {
        jobId,
        state: 'canceled',
        failure: f,
        outputs: [],
        metrics: [],
        finishedAt: now,
        agentId: '',
      };
      Object.assign(patch, { state: 'canceled', finishedAt: now, failureCode: f.code });
      putChunks(patch, 'result', result);
    }
    try {
      await table.updateEntity(patch, 'Merge', { etag: row.etag });
      signalCancel(runId, jobId);
      return readJob(runId, jobId);
    } catch (e) {
      if (storageStatus(e) !== 412) throw e;
    }
  }
  throw new Error(`Could not flag job ${runId}/${jobId} for cancel: its row kept changing.`);
}

/**
 * Fails a running job whose agent went silent (state failed, code `lost`), conditionally on the row
 * not having changed, so a result that lands meanwhile wins. Returns the result written, or undefined
 * when the job is not lost (or finished meanwhile).
 */
export async function markLost(
  runId: string,
  jobId: string,
  lostAfterMs: number,
): Promise<JobResult | undefined> {
  const row = await readJob(runId, jobId);
  const now = getClock().now();
  if (!row || !isLost(row, now, lostAfterMs)) return undefined;
  const f = failureFor({
    kind: 'lost',
    message: `Agent ${row.claimedBy ?? '(unknown)'} stopped heartbeating (last at ${row.heartbeatAt ?? row.claimedAt ?? 'never'}, more than ${lostAfterMs} ms ago); the machine or agent process likely died.`,
  })!;
  const result: JobResult = {
    jobId,
    state: 'failed',
    failure: f,
    outputs: [],
    metrics: [],
    finishedAt: new Date(now).toISOString(),
    agentId: row.claimedBy ?? '',
    ...(row.startedAt ? { startedAt: row.startedAt } : {}),
  };
  try {
    await writeResult(row, result);
    return result;
  } catch (e) {
    if (storageStatus(e) === 412) return undefined;
    throw e;
  }
}
