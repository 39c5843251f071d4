import type { JobResult } from '../compute/job';
import type { PollInput, PollResult } from './activity-contract';
import { readEntry } from './cache-store';
import { iso, type RunDeps } from './run-deps';
import { readStepRecord } from './store';

/**
 * The `runs-poll` activity: reads job rows (an event may have been lost) and fails jobs whose agent or
 * engine went silent as `lost`. A follower's holder without a job of its own (a batch step) is followed
 * through its step record.
 */
export async function poll(deps: RunDeps, input: PollInput): Promise<PollResult[]> {
  const out: PollResult[] = [];
  const { lostAfterMs } = deps.settings;
  await Promise.all(
    input.jobs.map(async (j) => {
      const row = await deps.compute.read(j.runId, j.jobId);
      if (j.follow) {
        if (!row) {
          const r = await followedStep(deps, j.jobId, j.follow);
          if (r === 'running') return;
          out.push(
            r
              ? { step: j.step, jobId: j.jobId, followed: j.follow, result: r }
              : { step: j.step, jobId: j.jobId, followFailed: true },
          );
          return;
        }
        if (row.result?.state === 'succeeded')
          out.push({ step: j.step, jobId: j.jobId, result: row.result, followed: j.follow });
        else if (row.state !== 'queued' && row.state !== 'running')
          out.push({ step: j.step, jobId: j.jobId, followFailed: true });
        else if (await deps.compute.check(j.runId, j.jobId, lostAfterMs, row))
          out.push({ step: j.step, jobId: j.jobId, followFailed: true });
        return;
      }
      if (!row) {
        out.push({
          step: j.step,
          jobId: j.jobId,
          result: {
            jobId: j.jobId,
            state: 'failed',
            failure: {
              code: 'platform',
              message: `job ${j.jobId} has no row in the jobs table; it was never enqueued or was deleted`,
            },
            outputs: [],
            metrics: [],
            finishedAt: iso(deps.clock.now()),
            agentId: '',
          },
        });
        return;
      }
      if (row.result) out.push({ step: j.step, jobId: j.jobId, result: row.result });
      else {
        const lost = await deps.compute.check(j.runId, j.jobId, lostAfterMs, row);
        if (lost) out.push({ step: j.step, jobId: j.jobId, result: lost });
      }
    }),
  );
  return out.sort((a, b) => (a.step < b.step ? -1 : a.step > b.step ? 1 : 0));
}

/**
 * A parallelRun/automl holder has no job of its own (its work is batch jobs): its step record says how
 * it stands: still running, its outputs when it completed with a cache entry (shareable), or
 * `undefined` when there is nothing to share (a tolerated-partial parallelRun has no entry).
 */
async function followedStep(
  deps: RunDeps,
  jobId: string,
  follow: { runId: string; step: string },
): Promise<JobResult | 'running' | undefined> {
  const holder = await readStepRecord(follow.runId, follow.step);
  if (holder && (holder.status === 'Queued' || holder.status === 'Running')) return 'running';
  const shareable =
    holder?.status === 'Completed' &&
    holder.outputs &&
    holder.cache?.key &&
    (await readEntry(holder.cache.key))?.runId === follow.runId;
  if (!shareable || !holder?.outputs) return undefined;
  return {
    jobId,
    state: 'succeeded',
    outputs: Object.entries(holder.outputs).map(([name, o]) => ({
      name,
      type: o.type,
      hash: o.hash,
      size: o.size ?? 0,
    })),
    metrics: holder.metrics ?? [],
    finishedAt: holder.finishedAt ?? iso(deps.clock.now()),
    agentId: '',
  };
}
