/**
 * The agent-pool backend: a job is a row plus a message on `sluice-jobs-<pool>`, which one of the pool's
 * pull agents (agent.ts) claims. Only heartbeats tell that an agent died, so `status` fails a running
 * job whose heartbeat went silent as `lost`.
 */
import type { ComputeBackend, JobHandle, JobStatus } from './backend';
import type { JobSpec } from './job';
import type { JobRow } from './job-row';
import { enqueueJob, markLost, requestCancel } from './jobs-service';
import { logBlobName, LOGS_CONTAINER } from './log-stream';
import type { ComputeTarget } from './targets';

export const agentBackend: ComputeBackend = {
  kind: 'agent',
  async submit(specs: JobSpec[], target: ComputeTarget): Promise<JobHandle[]> {
    return Promise.all(
      specs.map(async (spec) => {
        await enqueueJob(spec);
        return { backend: 'agent' as const, runId: spec.runId, jobId: spec.jobId, target: target.name };
      }),
    );
  },
  async status(row, opts): Promise<JobStatus> {
    if (row.result) return { state: 'ended', result: row.result };
    if (row.state === 'running') {
      const lost = await markLost(row.runId, row.jobId, opts.lostAfterMs);
      if (lost) return { state: 'ended', result: lost };
    }
    return { state: row.state === 'running' ? 'running' : 'queued' };
  },
  async cancel(row): Promise<void> {
    await requestCancel(row.runId, row.jobId);
  },
  logs(row) {
    return { container: LOGS_CONTAINER, blob: logLocation(row) };
  },
};

/** The runner's log blob for a row, whatever the backend. */
export function logLocation(row: JobRow): string {
  return logBlobName(row.runId, row.stepName, row.attempt, row.spec.batch);
}
