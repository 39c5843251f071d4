/**
 * The runner's writes on its job row: the claim (queued → running for one agent, conditional on the
 * row's ETag, so two runners never both run a job), heartbeats, and the result, written only while the
 * row is still running under that agent (a job already failed as lost, or canceled, keeps its state).
 */
import { getClock } from '../host/clock';
import type { JobResult } from './job';
import { claimFields, tableKey, type JobRow } from './job-row';
import { jobsTable, readJob, storageStatus, writeResult } from './jobs';

export type ClaimOutcome =
  | { claimed: true; row: JobRow }
  | { claimed: false; reason: 'missing' | 'taken' | 'finished' | 'no-room'; row?: JobRow };

/** queued → running for `agentId`, conditionally on the row's ETag. */
export async function claimJob(
  runId: string,
  jobId: string,
  agentId: string,
  /** The row as enqueued (in-process hand-off): claimed on its ETag without reading it first. */
  known?: JobRow,
  /** Whether the agent has room for the job (its resources); false leaves the job queued. */
  admit?: (row: JobRow) => boolean,
): Promise<ClaimOutcome> {
  if (known) {
    const fast = await claimRow(known, agentId);
    if (fast.claimed) return fast;
  }
  const row = await readJob(runId, jobId);
  if (!row) return { claimed: false, reason: 'missing' };
  if (row.state !== 'queued')
    return { claimed: false, reason: row.state === 'running' ? 'taken' : 'finished', row };
  if (admit && !admit(row)) return { claimed: false, reason: 'no-room', row };
  return claimRow(row, agentId);
}

async function claimRow(row: JobRow, agentId: string): Promise<ClaimOutcome> {
  const { runId, jobId } = row;
  const table = await jobsTable();
  const fields = claimFields(agentId);
  const now = fields.claimedAt;
  let etag: string;
  try {
    const res = await table.updateEntity(
      { partitionKey: tableKey(runId), rowKey: tableKey(jobId), ...fields },
      'Merge',
      { etag: row.etag },
    );
    etag = res.etag!;
  } catch (e) {
    if (storageStatus(e) === 412) return { claimed: false, reason: 'taken' };
    throw e;
  }
  return {
    claimed: true,
    row: {
      ...row,
      state: 'running',
      claimedBy: agentId,
      claimedAt: now,
      startedAt: now,
      heartbeatAt: now,
      etag,
    },
  };
}

/** Stamps heartbeatAt; returns the row's new ETag (the agent's fast path for its final write). */
export async function heartbeat(
  runId: string,
  jobId: string,
  fields: Record<string, unknown> = {},
): Promise<string | undefined> {
  const table = await jobsTable();
  const res = await table.updateEntity(
    {
      partitionKey: tableKey(runId),
      rowKey: tableKey(jobId),
      heartbeatAt: new Date(getClock().now()).toISOString(),
      ...fields,
    },
    'Merge',
  );
  return res.etag;
}

/**
 * Writes an agent's result, only while the row is still running under that agent (a job already failed
 * as lost, or canceled while queued, keeps its state). Returns whether the result was written.
 */
export async function completeJob(
  runId: string,
  jobId: string,
  agentId: string,
  result: JobResult,
  /** The ETag of the agent's own last write: while it matches, nobody else changed the row. */
  etag?: string,
): Promise<boolean> {
  if (etag) {
    try {
      await writeResult({ runId, jobId, etag } as JobRow, result);
      return true;
    } catch (e) {
      if (storageStatus(e) !== 412) throw e;
    }
  }
  for (let i = 0; i < 10; i++) {
    const row = await readJob(runId, jobId);
    if (!row || row.state !== 'running' || row.claimedBy !== agentId) return false;
    try {
      await writeResult(row, result);
      return true;
    } catch (e) {
      if (storageStatus(e) !== 412) throw e;
    }
  }
  throw new Error(`Could not write the result of job ${runId}/${jobId}: its row kept changing.`);
}
