import { listActiveJobs, readJob } from '../compute/jobs';
import { parseShardProgress } from '../compute/shard';
import type { RunDoc, StepRecord } from './store';

/**
 * What the job rows know that the run document does not yet, laid over a run read for a client. The
 * orchestration writes the run document when something it waits for happens, so between those writes:
 * - a step it last saw Queued may already run on an agent (its row says running);
 * - a parallelRun shard (one job, many mini-batches) is counted as all its mini-batches running from its
 *   dispatch until it ends; its row says whether an agent has taken it yet, and its heartbeat how many
 *   have ended (`progress`), so the counts move while it runs.
 * Only the view changes: nothing here is written back.
 */
export async function overlayLiveState(doc: RunDoc): Promise<void> {
  const steps = Object.values(doc.steps);
  await Promise.all([
    ...steps
      .filter((s) => s.status === 'Queued' && s.jobId)
      .map(async (s) => {
        const row = await readJob(doc.runId, s.jobId!).catch(() => undefined);
        // Running, or finished with the orchestration not yet recording it: either way it has started.
        if (row && row.state !== 'queued') {
          s.status = 'Running';
          if (row.startedAt ?? row.claimedAt) s.startedAt = row.startedAt ?? row.claimedAt;
        }
      }),
    ...steps.filter((s) => (s.batches?.running ?? 0) > 0).map((s) => overlayShardProgress(doc.runId, s)),
  ]);
}

async function overlayShardProgress(runId: string, s: StepRecord): Promise<void> {
  const rows = await listActiveJobs(runId, s.name).catch(() => []);
  const b = s.batches!;
  for (const row of rows) {
    const shard = row.spec.shard;
    if (!shard) continue;
    // Dispatched, not yet taken by an agent: none of its mini-batches runs yet.
    if (row.state === 'queued') {
      b.running -= shard.count;
      continue;
    }
    // Before its first mini-batch ends, the heartbeat carries no progress: none ended.
    const { succeeded, failed } = parseShardProgress(row.progress) ?? { succeeded: 0, failed: 0 };
    const ended = Math.min(shard.count, succeeded + failed);
    // The shard's `count` mini-batches were counted running: those ended leave, one runs now, and the
    // rest wait their turn in the shard (not started).
    b.succeeded += succeeded;
    b.failed += failed;
    b.running -= shard.count - Math.min(1, shard.count - ended);
  }
  b.running = Math.max(0, b.running);
}
