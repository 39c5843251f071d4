/**
 * The live view of a compute target: what the API (`GET /api/compute/{name}/live`), the CLI
 * (`sluice compute show NAME`) and the dashboard show. Agent pools: the agents' presence rows and the
 * queue's depth. Slurm: Sluice's jobs in squeue.
 */
import { getClock } from '../host/clock';
import { jobQueue } from './jobs';
import type { TargetLiveView } from './live-view';
import { listPresence } from './presence';
import { clusterOf } from './slurm/backend';
import { queueSnapshot } from './slurm/cli';
import type { ComputeTarget } from './targets';

export type { TargetLiveView };

export async function targetLiveView(t: ComputeTarget): Promise<TargetLiveView> {
  const now = getClock().now();
  const base = { name: t.name, backend: t.backend, at: new Date(now).toISOString() };
  if (t.backend === 'slurm') {
    try {
      const snap = await queueSnapshot(clusterOf(t.slurm), true);
      const jobs = [...snap.values()]
        .filter(
          (j) => j.name.startsWith('sluice-') && (!t.slurm?.partition || j.partition === t.slurm.partition),
        )
        .map(({ id, state, reason, name, elapsed, node }) => ({ id, state, reason, name, elapsed, node }));
      return { ...base, queueDepth: jobs.filter((j) => j.state === 'PENDING').length, slurmJobs: jobs };
    } catch (e) {
      return { ...base, queueDepth: 0, slurmJobs: [], problems: [(e as Error).message] };
    }
  }
  const [agents, props] = await Promise.all([
    listPresence(t.pool),
    jobQueue(t.pool).then((q) => q.getProperties()),
  ]);
  return {
    ...base,
    queueDepth: props.approximateMessagesCount ?? 0,
    agents: agents.map((a) => ({ ...a, heartbeatAgeMs: Math.max(0, now - Date.parse(a.heartbeatAt)) })),
  };
}
