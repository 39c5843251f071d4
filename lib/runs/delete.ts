import type { InvocationContext } from '@azure/functions';
import { getClients } from '../azure/clients';
import { tableKey } from '../compute/job-row';
import { jobsTable, listJobs } from '../compute/jobs';
import { LOGS_CONTAINER } from '../compute/log-stream';
import { deleteRunLineage } from '../data/lineage';
import { conflict, notFound } from '../errors/problem';
import { cacheContainer, releaseRunClaims } from './cache-store';
import { durableClient } from './durable-client';
import { isStatus, readRun, runsContainer, stepPageIds } from './store';

const ENDED = ['Completed', 'Failed', 'Canceled'];

/** What deleting a run removed, for the caller and the log. */
export interface RunDeletion {
  runId: string;
  pipeline: string;
  deleted: {
    /** Job rows (one per step attempt, mini-batch or trial). */
    jobs: number;
    /** Log blobs. */
    logs: number;
    /** Reuse-cache entries whose outputs this run computed: later runs compute those steps again. */
    cacheEntries: number;
    /** Lineage edges naming this run as producer or consumer. */
    lineage: number;
  };
}

/**
 * Deletes a finished run and everything that exists only for it: job rows, logs, its durable history,
 * the cache entries it wrote and its lineage edges; the run document goes last, so a delete that fails
 * half-way can simply be repeated. Data is not deleted here: artifacts still referenced elsewhere (a
 * dataset version, another run, another cache entry) stay, and the rest is left to the artifact GC.
 * Dataset versions the run produced stay too (they are immutable history), naming the run as source.
 *
 * Throws ProblemError 404 for no such run and 409 while it is still active (cancel it first).
 */
export async function deleteRun(runId: string, context?: InvocationContext): Promise<RunDeletion> {
  const doc = await readRun(runId);
  if (!doc) throw notFound(`There is no run "${runId}"; list runs with GET /api/runs.`);
  if (!ENDED.includes(doc.status))
    throw conflict(
      `Run ${runId} is ${doc.status}; cancel it first (POST /api/runs/${runId}/cancel), then delete it once it has ended.`,
      { runStatus: doc.status },
    );

  const [cacheEntries, lineage, jobs, logs] = await Promise.all([
    deleteCacheEntries(runId),
    deleteRunLineage(runId),
    deleteJobRows(runId),
    deleteLogs(runId),
    // A finished run holds no claim or waiter; one left by a crash goes with the run.
    releaseRunClaims(runId),
  ]);
  // The orchestration's history (instance, events): purge answers 404 when it is already gone.
  await durableClient(context)
    .purgeInstanceHistory(runId)
    .catch((e: unknown) => {
      if (!/404|not found/i.test(String((e as Error)?.message ?? e))) throw e;
    });
  const runs = await runsContainer();
  // The step pages, then the head: a delete cut short is repeated from the head.
  for (const id of [...stepPageIds(doc), runId])
    try {
      await runs.item(id, runId).delete();
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
    }
  return { runId, pipeline: doc.pipeline, deleted: { jobs, logs, cacheEntries, lineage } };
}

/** Cache entries this run wrote (the cache's latest-execution records keep only components: they stay). */
async function deleteCacheEntries(runId: string): Promise<number> {
  const c = await cacheContainer();
  const { resources } = await c.items
    .query<{ key: string }>({
      query: "SELECT c.key FROM c WHERE c.id = 'entry' AND c.runId = @runId",
      parameters: [{ name: '@runId', value: runId }],
    })
    .fetchAll();
  await Promise.all(resources.map((r) => deleteIgnoringMissing(() => c.item('entry', r.key).delete())));
  return resources.length;
}

async function deleteJobRows(runId: string): Promise<number> {
  const rows = await listJobs(runId);
  const table = await jobsTable();
  await Promise.all(
    rows.map((r) => deleteIgnoringMissing(() => table.deleteEntity(tableKey(runId), tableKey(r.jobId)))),
  );
  return rows.length;
}

async function deleteLogs(runId: string): Promise<number> {
  const logs = getClients().blob.getContainerClient(LOGS_CONTAINER);
  let n = 0;
  const pending: Array<Promise<unknown>> = [];
  try {
    for await (const b of logs.listBlobsFlat({ prefix: `${runId}/` })) {
      n++;
      pending.push(deleteIgnoringMissing(() => logs.deleteBlob(b.name)));
    }
  } catch (e) {
    if (!isStatus(e, 404)) throw e; // no logs container yet: nothing to delete
  }
  await Promise.all(pending);
  return n;
}

async function deleteIgnoringMissing(op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (e) {
    if (!isStatus(e, 404)) throw e;
  }
}
