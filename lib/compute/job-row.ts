/**
 * The job row and the queue message, as shapes and as Table storage encodes them (no storage client
 * here). A row's spec and result are JSON split across properties (a Table string holds at most
 * 64 KiB); keys are escaped (ids may hold characters Table keys refuse). A running job whose heartbeat
 * is older than the limit is lost.
 */
import type { TableEntityResult } from '@azure/data-tables';
import { getClock } from '../host/clock';
import type { JobResult, JobSpec, JobState } from './job';
import type { BackendKind } from './targets';

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
   * Sent with the heartbeat. Sweep trials: the intermediate metrics reported so far (JSON of the result's
   * `metrics` shape), so an early-termination policy can judge a trial while it runs. parallelRun shards:
   * `{"succeeded":n,"failed":m}`, the mini-batches ended so far, so the run shows live counts.
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

export function putChunks(entity: Record<string, unknown>, prefix: string, value: unknown): void {
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

export type Entity = TableEntityResult<Record<string, unknown>>;

export function toRow(e: Entity): JobRow {
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

export function queuedEntity(
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

/** The fields a claim writes: running under `agentId`, claimed, started and heartbeating now. */
export function claimFields(agentId: string): {
  state: 'running';
  claimedBy: string;
  claimedAt: string;
  startedAt: string;
  heartbeatAt: string;
} {
  const now = new Date(getClock().now()).toISOString();
  return { state: 'running', claimedBy: agentId, claimedAt: now, startedAt: now, heartbeatAt: now };
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
