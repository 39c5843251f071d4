/**
 * The job store: Table `sluicejobs` (partition runId, row jobId) and the pools' queues
 * (`sluice-jobs-<pool>`), made on first use per set of clients, and the row reads. The one result write
 * (`writeResult`) is conditional on the row's ETag, so a row changed meanwhile is never overwritten.
 */
import type { TableClient } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import { getClients } from '../azure/clients';
import { JOBS_TABLE, jobQueueName, type JobResult } from './job';
import { putChunks, tableKey, toRow, type Entity, type JobRow } from './job-row';

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

/** The HTTP status of a storage error (404, 409, 412…), if it has one. */
export function storageStatus(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

export async function readJob(runId: string, jobId: string): Promise<JobRow | undefined> {
  const table = await jobsTable();
  try {
    return toRow(await table.getEntity<Record<string, unknown>>(tableKey(runId), tableKey(jobId)));
  } catch (e) {
    if (storageStatus(e) === 404) return undefined;
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

/** The queued and running job rows of one step of a run (a batch step's mini-batches, trials or shards). */
export async function listActiveJobs(runId: string, step: string): Promise<JobRow[]> {
  const table = await jobsTable();
  const out: JobRow[] = [];
  const q = (v: string): string => v.replace(/'/g, "''");
  for await (const e of table.listEntities<Record<string, unknown>>({
    queryOptions: {
      filter:
        `PartitionKey eq '${q(tableKey(runId))}' and stepName eq '${q(step)}' and ` +
        `(state eq 'queued' or state eq 'running')`,
    },
  }))
    out.push(toRow(e as Entity));
  return out;
}

/** Writes a result on the row, conditionally on the row's ETag (a 412 when the row changed). */
export async function writeResult(row: JobRow, result: JobResult): Promise<void> {
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
