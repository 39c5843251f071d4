/**
 * The compute backend contract: how a step's job reaches an engine and comes back. Every backend (the
 * pull agents of a pool, a Slurm cluster, and on paper Azure Batch, Azure ML, Kubernetes and Databricks:
 * see README.md) implements these four calls; lib/runs talks to them only through dispatch.ts and never
 * learns which engine ran a step.
 *
 * The job row (jobs.ts) stays the one durable record whatever the backend: the runner inside the engine
 * claims it, heartbeats it and writes the result, and the handle is kept on it. A backend's `status`
 * adds what only the engine knows (the job vanished, was preempted, hit its time limit) and writes
 * that verdict on the row, conditionally, so a result the runner wrote first always wins.
 */
import type { JobResult, JobSpec } from './job';
import type { JobRow } from './job-row';
import type { BackendKind, ComputeTarget } from './targets';

/** What a backend returns from submit and keeps on the job row: enough to find the job again. */
export interface JobHandle {
  backend: BackendKind;
  runId: string;
  jobId: string;
  target: string;
  /** The engine's own id (a Slurm job id, `123` or `123_4` for an array task); absent for agent jobs. */
  external?: string;
}

export type JobStatus =
  | { state: 'queued' | 'running'; detail?: string }
  /** Ended: the result the runner reported, or the verdict the backend wrote (lost, timeout). */
  | { state: 'ended'; result: JobResult };

/** Where a job's log is: blob `blob` of container `container`, complete once it carries its end mark. */
export interface LogLocation {
  container: string;
  blob: string;
}

export interface StatusOptions {
  /** A running job whose heartbeat is older than this is lost. */
  lostAfterMs: number;
}

export interface ComputeBackend {
  readonly kind: BackendKind;
  /**
   * Creates the job's row and hands the job to the engine. Idempotent per runId/jobId. Several specs
   * given at once (a parallelRun's mini-batches) may go out as one engine submission (a Slurm array).
   */
  submit(specs: JobSpec[], target: ComputeTarget): Promise<JobHandle[]>;
  /** The job's state now; writes a verdict on the row when the engine says the job ended without one. */
  status(row: JobRow, opts: StatusOptions): Promise<JobStatus>;
  /** Asks the job to stop: the row is flagged (the runner kills its process group) and the engine told. */
  cancel(row: JobRow): Promise<void>;
  /** The job's log (the runner streams it, whatever the engine). */
  logs(row: JobRow): LogLocation;
}

/** The handle kept on a row. */
export function handleOf(row: JobRow): JobHandle {
  return {
    backend: row.backend ?? 'agent',
    runId: row.runId,
    jobId: row.jobId,
    target: row.spec.target ?? row.pool,
    ...(row.external ? { external: row.external } : {}),
  };
}
