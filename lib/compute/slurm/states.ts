/**
 * What a Slurm job's state means for a Sluice job that has no result on its row. Pure: the backend reads
 * squeue (or sacct) and the row, and this decides. Slurm states are listed in squeue(1) "JOB STATE CODES".
 */
import type { JobFailureCode } from '../job';

/** A job as squeue or sacct showed it; undefined: the cluster no longer knows the job. */
export interface SlurmJobView {
  state: string;
  reason?: string;
}

export type SlurmVerdict =
  { kind: 'active'; detail: string } | { kind: 'ended'; failure: { code: JobFailureCode; message: string } };

const ACTIVE = new Set([
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'RESIZING',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'SIGNALING',
  'STAGE_OUT',
  'STOPPED',
  'RESV_DEL_HOLD',
  'SPECIAL_EXIT',
]);

/**
 * The verdict on Slurm job `id` whose Sluice row has no result. `cancelRequested`: Sluice asked for the
 * cancel (so CANCELLED is `canceled`, not `lost`). `output`: the Slurm output file, for messages.
 */
export function slurmVerdict(
  id: string,
  view: SlurmJobView | undefined,
  cancelRequested: boolean,
  output?: string,
): SlurmVerdict {
  const see = output ? ` Slurm's output file: ${output}.` : '';
  if (!view)
    return {
      kind: 'ended',
      failure: {
        code: 'lost',
        message: `Slurm job ${id} vanished from the cluster (squeue no longer knows it) before its result was reported; it is retried per the step's policy.${see}`,
      },
    };
  const state = view.state.toUpperCase().replace(/\+$/, '').split(/\s+/)[0]!;
  const reason = view.reason && view.reason !== 'None' ? ` (${view.reason})` : '';
  if (ACTIVE.has(state)) return { kind: 'active', detail: `Slurm job ${id} ${state}${reason}` };
  switch (state) {
    case 'TIMEOUT':
    case 'DEADLINE':
      return {
        kind: 'ended',
        failure: {
          code: 'timeout',
          message: `Slurm ended job ${id} at its time limit (${state}); raise the step's timeout or the target's time limit, or make the step faster.${see}`,
        },
      };
    case 'CANCELLED':
      return cancelRequested
        ? {
            kind: 'ended',
            failure: { code: 'canceled', message: `The job was canceled (Slurm job ${id} scancel'ed).` },
          }
        : {
            kind: 'ended',
            failure: {
              code: 'lost',
              message: `Slurm job ${id} was cancelled outside Sluice${reason} (an administrator or scancel); it is retried per the step's policy.${see}`,
            },
          };
    case 'PREEMPTED':
    case 'NODE_FAIL':
    case 'BOOT_FAIL':
    case 'REVOKED':
      return {
        kind: 'ended',
        failure: {
          code: 'lost',
          message: `Slurm job ${id} ended with ${state}${reason}: the allocation was taken away, not the step's fault; it is retried per the step's policy.${see}`,
        },
      };
    case 'OUT_OF_MEMORY':
      return {
        kind: 'ended',
        failure: {
          code: 'exit-code',
          message: `Slurm job ${id} ran out of memory (OUT_OF_MEMORY); raise the step's resources.memoryGb.${see}`,
        },
      };
    default:
      // COMPLETED or FAILED with no result on the row: the runner itself died (or never started).
      return {
        kind: 'ended',
        failure: {
          code: 'lost',
          message: `Slurm job ${id} ended (${state}${reason}) without Sluice's runner reporting a result: the runner could not start or died.${see}`,
        },
      };
  }
}
