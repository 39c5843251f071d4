/**
 * The job row (Table `sluicejobs`, partition runId, row jobId) and the queue message: the durable
 * record that lib/runs writes and polls and that agents claim, heartbeat and complete. Every state
 * change is a conditional update (ETag), so two agents never both run a job and a late agent cannot
 * overwrite a job already failed as lost.
 */
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import { getClients } from '../azure/clients';
import { getClock } from '../host/clock';
import { JOBS_TABLE, jobQueueName, type JobResult, type JobSpec, type JobState } from './job';
import { failureFor } from './failures';
import { isValidPool, type BackendKind } from './targets';
import { reserveInProcess, signalCancel, wakeAgents } from './wake';

export interface JobRow {
  runId: string;
  jobId: string;
  state: JobState;
  pool: string;
  stepName: string;
  attempt: number;
  spec: JobSpec;
  createdAt: string;
  claimedBy?: string;
  claimedAt?: string;
  startedAt?: string;
  /** Last heartbeat of the running agent (ISO, from the agent's clock). */
  heartbeatAt?: string;
  cancelRequested?: boolean;
  /**
   * Sweep trials: the intermediate metrics reported so far (JSON of the result's `metrics` shape), sent
   * with the heartbeat, so an early-termination policy can judge a trial while it runs.
   */
  progress?: string;
  finishedAt?: string;
  result?: JobResult;
  /** Which backend took the job (absent: the pool's agents). */
  backend?: BackendKind;
  /** The engine's id of the job (a Slurm job id), once submitted. */
  external?: string;
  etag: string;
}

/** What the queue carries; the row holds the spec (rows allow 1 MiB, messages 64 KiB). */
export interface JobMessage {
  runId: string;
  jobId: string;
}

// Table strings are at most 64 KiB (32 K UTF-16 units); longer JSON is split across properties.
const CHUNK = 30_000;

// Keys may not contain / \ # ? or control characters; ids come from other modules, so escape them.
export function tableKey(s: string): string {
  return s.replace(
    /[/\\#?%\u0000-\u001f\u007f-\u009f]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'),
  );
}

function putChunks(entity: Record<string, unknown>, prefix: string, value: unknown): void {
  const text = JSON.stringify(value);
  const n = Math.max(1, Math.ceil(text.length / CHUNK));
  entity[`${prefix}Chunks`] = n;
  for (let i = 0; i < n; i++) entity[`${prefix}${i}`] = text.slice(i * CHUNK, (i + 1) * CHUNK);
}

function getChunks<T>(entity: Record<string, unknown>, prefix: string): T | undefined {
  const n = entity[`${prefix}Chunks`];
  if (typeof n !== 'number') return undefined;
  let text = '';
  for (let i = 0; i < n; i++) text += String(entity[`${prefix}${i}`] ?? '');
  return JSON.parse(text) as T;
}

type Entity = TableEntityResult<Record<string, unknown>>;

function toRow(e: Entity): JobRow {
  const spec = getChunks<JobSpec>(e, 'spec')!;
  const row: JobRow = {
    runId: spec.runId,
    jobId: spec.jobId,
    state: e.state as JobState,
    pool: String(e.pool),
    stepName: String(e.stepName),
    attempt: Number(e.attempt),
    spec,
    createdAt: String(e.createdAt),
    etag: e.etag,
  };
  for (const k of ['claimedBy', 'claimedAt', 'startedAt', 'heartbeatAt', 'finishedAt', 'progress'] as const)
    if (typeof e[k] === 'string') row[k] = e[k] as string;
  if (e.cancelRequested === true) row.cancelRequested = true;
  if (e.backend === 'slurm' || e.backend === 'agent') row.backend = e.backend;
  if (typeof e.external === 'string' && e.external) row.external = e.external;
  const result = getChunks<JobResult>(e, 'result');
  if (result) row.result = result;
  return row;
}

const tables = new WeakMap<object, Promise<TableClient>>();

export async function jobsTable(): Promise<TableClient> {
  const clients = getClients();
  let p = tables.get(clients);
  if (!p) {
    const t = clients.table(JOBS_TABLE);
    p = t.createTable().then(() => t);
    p.catch(() => tables.delete(clients));
    tables.set(clients, p);
  }
  return p;
}

const queues = new Map<string, Promise<QueueClient>>();

export async function jobQueue(pool: string): Promise<QueueClient> {
  const clients = getClients();
  const key = `${clients.settings.storageConnectionString}|${pool}`;
  let p = queues.get(key);
  if (!p) {
    const q = clients.queue.getQueueClient(jobQueueName(pool));
    p = q.createIfNotExists().then(() => q);
    p.catch(() => queues.delete(key));
    queues.set(key, p);
  }
  return p;
}

function status(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

export function encodeMessage(m: JobMessage): string {
  return Buffer.from(JSON.stringify(m)).toString('base64');
}

export function decodeMessage(text: string): JobMessage | undefined {
  for (const candidate of [text, Buffer.from(text, 'base64').toString('utf8')]) {
    try {
      const m = JSON.parse(candidate) as JobMessage;
      if (m && typeof m.runId === 'string' && typeof m.jobId === 'string') return m;
    } catch {
      /* try the other encoding */
    }
  }
  return undefined;
}

function queuedEntity(
  spec: JobSpec,
  backend?: BackendKind,
): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  const entity: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: tableKey(spec.runId),
    rowKey: tableKey(spec.jobId),
    state: 'queued',
    pool: spec.pool,
    stepName: spec.stepName,
    attempt: spec.attempt,
    createdAt: spec.createdAt || new Date(getClock().now()).toISOString(),
    ...(backend && backend !== 'agent' ? { backend } : {}),
  };
  putChunks(entity, 'spec', spec);
  return entity;
}

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
    if (status(e) !== 409) throw e;
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
    if (status(e) !== 409) throw e;
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
    if (status(e) === 412) return false;
    throw e;
  }
}

export async function readJob(runId: string, jobId: string): Promise<JobRow | undefined> {
  const table = await jobsTable();
  try {
    return toRow(await table.getEntity<Record<string, unknown>>(tableKey(runId), tableKey(jobId)));
  } catch (e) {
    if (status(e) === 404) return undefined;
    throw e;
  }
}

/** Every job row of a run (for diagnostics and cleanup). */
export async function listJobs(runId: string): Promise<JobRow[]> {
  const table = await jobsTable();
  const out: JobRow[] = [];
  const pk = tableKey(runId).replace(/'/g, "''");
  for await (const e of table.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${pk}'` },
  }))
    out.push(toRow(e as Entity));
  return out;
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
      if (status(e) !== 412) throw e;
    }
  }
  throw new Error(`Could not flag job ${runId}/${jobId} for cancel: its row kept changing.`);
}

/** Whether a running job's agent has gone silent: no heartbeat for more than `lostAfterMs`. */
export function isLost(
  row: Pick<JobRow, 'state' | 'heartbeatAt' | 'claimedAt'>,
  now: number,
  lostAfterMs: number,
): boolean {
  if (row.state !== 'running') return false;
  const last = Date.parse(row.heartbeatAt ?? row.claimedAt ?? '');
  return Number.isFinite(last) ? now - last > lostAfterMs : true;
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
    if (status(e) === 412) return undefined;
    throw e;
  }
}

// ---- agent side -------------------------------------------------------------------------------

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

function claimFields(agentId: string): {
  state: 'running';
  claimedBy: string;
  claimedAt: string;
  startedAt: string;
  heartbeatAt: string;
} {
  const now = new Date(getClock().now()).toISOString();
  return { state: 'running', claimedBy: agentId, claimedAt: now, startedAt: now, heartbeatAt: now };
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
    if (status(e) === 412) return { claimed: false, reason: 'taken' };
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

async function writeResult(row: JobRow, result: JobResult): Promise<void> {
  const table = await jobsTable();
  const patch: Record<string, unknown> & { partitionKey: string; rowKey: string } = {
    partitionKey: tableKey(row.runId),
    rowKey: tableKey(row.jobId),
    state: result.state,
    finishedAt: result.finishedAt,
    failureCode: result.failure?.code ?? '',
  };
  if (result.exitCode !== undefined) patch.exitCode = result.exitCode;
  putChunks(patch, 'result', result);
  await table.updateEntity(patch, 'Merge', { etag: row.etag });
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
      if (status(e) !== 412) throw e;
    }
  }
  for (let i = 0; i < 10; i++) {
    const row = await readJob(runId, jobId);
    if (!row || row.state !== 'running' || row.claimedBy !== agentId) return false;
    try {
      await writeResult(row, result);
      return true;
    } catch (e) {
      if (status(e) !== 412) throw e;
    }
  }
  throw new Error(`Could not write the result of job ${runId}/${jobId}: its row kept changing.`);
}
