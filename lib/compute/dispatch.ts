/**
 * The one module lib/runs calls to run a job, whatever engine its compute target names: submit,
 * supervise (status with the engine's verdicts), cancel. Jobs are addressed by runId/jobId; the handle
 * lives on the job row, so the run's state needs nothing new.
 */
import { agentBackend } from './agent-backend';
import type { ComputeBackend, JobStatus } from './backend';
import type { JobResult, JobSpec } from './job';
import type { JobRow } from './job-row';
import { readJob } from './jobs';
import { slurmBackend } from './slurm/backend';
import { effectiveResources, type BackendKind, type ComputeTarget } from './targets';
import { getComputeTarget } from './targets-store';

const BACKENDS: Record<BackendKind, ComputeBackend> = { agent: agentBackend, slurm: slurmBackend };

export function backendFor(kind: BackendKind | undefined): ComputeBackend {
  return BACKENDS[kind ?? 'agent'];
}

/**
 * Hands a job to its target's backend (the spec's `target`, else the agents of its pool). Throws when
 * the target is gone; lib/runs fails the step with that message.
 */
export async function submitJob(spec: JobSpec, target?: ComputeTarget): Promise<void> {
  const t = target ?? (spec.target ? await getComputeTarget(spec.target) : undefined);
  if (spec.target && !t)
    throw new Error(
      `compute target "${spec.target}" does not exist (any more); list the targets with \`sluice compute list\`.`,
    );
  if (t) {
    // The target's defaults fill what the step left out; a request bigger than the target can ever
    // offer fails now, with what to do, instead of waiting in a queue forever.
    const { resources, problems } = effectiveResources(spec.resources, t);
    if (problems.length) throw new Error(`step "${spec.stepName}" ${problems.join('; ')}.`);
    if (Object.keys(resources).length) spec = { ...spec, resources };
  }
  if (!t || t.backend === 'agent') {
    await agentBackend.submit(
      [spec],
      t ?? { name: spec.pool, backend: 'agent', pool: spec.pool, environment: {} },
    );
    return;
  }
  await backendFor(t.backend).submit([spec], t);
}

/**
 * The job's state, with the engine's verdict written when it ended without a result (an agent that went
 * silent, a Slurm job that vanished, was preempted or hit its time limit). Undefined when it has no row.
 */
export async function superviseJob(
  runId: string,
  jobId: string,
  lostAfterMs: number,
  known?: JobRow,
): Promise<JobStatus | undefined> {
  const row = known ?? (await readJob(runId, jobId));
  if (!row) return undefined;
  if (row.result) return { state: 'ended', result: row.result };
  return backendFor(row.backend).status(row, { lostAfterMs });
}

/**
 * For lib/runs' poll: the verdict on a job without a result, or undefined while it is still queued or
 * running (the replacement for markLost that also asks the job's engine).
 */
export async function checkJob(
  runId: string,
  jobId: string,
  lostAfterMs: number,
  known?: JobRow,
): Promise<JobResult | undefined> {
  const s = await superviseJob(runId, jobId, lostAfterMs, known);
  return s?.state === 'ended' ? s.result : undefined;
}

/** Cancels a job on its engine; a job that already ended is left as it is. */
export async function cancelJob(runId: string, jobId: string): Promise<void> {
  const row = await readJob(runId, jobId);
  if (!row) return;
  await backendFor(row.backend).cancel(row);
}
