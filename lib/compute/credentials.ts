/**
 * Short-lived, scoped storage credentials for runners outside the service (remote agents, Slurm jobs),
 * minted by the service with the account key it holds (service SAS; on Azure a user-delegation SAS
 * takes the same shape). A runner never sees the connection string:
 * - **pool credentials**: the pool's queue (read, update, process), the artifact store (read, add,
 *   create, write: no list, no delete) and the code snapshots (read);
 * - **job credentials**, per job: its row in `sluicejobs` (a Table SAS bounded to the row's partition
 *   and row key, query and update) and its log blob (read, add, create, write).
 */
import { AzureNamedKeyCredential, generateTableSas } from '@azure/data-tables';
import {
  BlobSASPermissions,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import {
  generateQueueSASQueryParameters,
  QueueSASPermissions,
  StorageSharedKeyCredential as QueueKeyCredential,
} from '@azure/storage-queue';
import { getClients } from '../azure/clients';
import { loadSettings } from '../config/settings';
import { getClock } from '../host/clock';
import { ARTIFACTS_CONTAINER } from '../data/cas';
import { SNAPSHOTS_CONTAINER } from '../snapshots/store';
import { JOBS_TABLE, jobQueueName } from './job';
import { tableKey, type JobRow } from './job-row';
import { logBlobName, LOGS_CONTAINER } from './log-stream';

/** The header a remote agent sends its agent key in (to /api/agent-credentials…). */
export const AGENT_KEY_HEADER = 'x-sluice-agent-key';

export interface StorageEndpoints {
  blob: string;
  queue: string;
  table: string;
}

export interface PoolCredentials {
  pool: string;
  expiresAt: string;
  endpoints: StorageEndpoints;
  queue: { name: string; sas: string };
  /** Container name → SAS. */
  containers: Record<string, string>;
}

export interface JobCredentials {
  runId: string;
  jobId: string;
  expiresAt: string;
  /** SAS for the job's row only (PartitionKey = runId, RowKey = jobId). */
  table: { name: string; partitionKey: string; rowKey: string; sas: string };
  /** `container/blob` → SAS, for the job's log blob. */
  blobs: Record<string, string>;
}

interface Account {
  name: string;
  key: string;
  endpoints: StorageEndpoints;
}

/** The account name, key and endpoints of a connection string (what the service holds). */
export function parseAccount(conn: string): Account {
  const dev = /UseDevelopmentStorage=true/i.test(conn);
  const parts = Object.fromEntries(
    conn
      .split(';')
      .filter((p) => p.includes('='))
      .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
  ) as Record<string, string>;
  const name = dev ? 'devstoreaccount1' : parts.AccountName;
  const key = dev
    ? 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
    : parts.AccountKey;
  if (!name || !key)
    throw new Error(
      'Scoped credentials need the storage account key (AccountName and AccountKey in AzureWebJobsStorage).',
    );
  const proto = parts.DefaultEndpointsProtocol ?? 'https';
  const suffix = parts.EndpointSuffix ?? 'core.windows.net';
  const ep = (svc: 'Blob' | 'Queue' | 'Table', port: number): string =>
    (
      parts[`${svc}Endpoint`] ??
      (dev ? `http://127.0.0.1:${port}/${name}` : `${proto}://${name}.${svc.toLowerCase()}.${suffix}`)
    ).replace(/\/+$/, '');
  return {
    name,
    key,
    endpoints: { blob: ep('Blob', 10000), queue: ep('Queue', 10001), table: ep('Table', 10002) },
  };
}

/**
 * How long pool credentials live (setting `SLUICE_AGENT_CREDENTIALS_TTL_SECONDS`, at least 10); agents
 * renew them at half-life. @default 900 (15 minutes)
 */
export function credentialsTtlMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SLUICE_AGENT_CREDENTIALS_TTL_SECONDS;
  if (raw === undefined || raw === '') return 15 * 60_000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 10)
    throw new Error(`SLUICE_AGENT_CREDENTIALS_TTL_SECONDS must be a number of seconds ≥ 10, not "${raw}".`);
  return n * 1000;
}

let ensured: { key: unknown; p: Promise<void> } | undefined;

/**
 * Makes the containers and queue a scoped runner writes to (a SAS cannot create them). Once per process
 * and client bundle; called before credentials are handed out.
 */
export async function ensureStorageFor(pool: string): Promise<void> {
  const clients = getClients();
  if (ensured?.key !== clients) {
    const p = (async () => {
      await Promise.all(
        [LOGS_CONTAINER, ARTIFACTS_CONTAINER, SNAPSHOTS_CONTAINER].map((c) =>
          clients.blob.getContainerClient(c).createIfNotExists(),
        ),
      );
      await clients.table(JOBS_TABLE).createTable();
    })();
    p.catch(() => (ensured = undefined));
    ensured = { key: clients, p };
  }
  await ensured.p;
  await clients.queue.getQueueClient(jobQueueName(pool)).createIfNotExists();
}

function account(): Account {
  return parseAccount(loadSettings().storageConnectionString);
}

function window(ttlMs: number): { startsOn: Date; expiresOn: Date } {
  const now = getClock().now();
  // A little skew allowance: the runner's clock and the storage service's may differ.
  return { startsOn: new Date(now - 5 * 60_000), expiresOn: new Date(now + ttlMs) };
}

export function poolCredentials(pool: string, ttlMs = credentialsTtlMs()): PoolCredentials {
  const a = account();
  const w = window(ttlMs);
  const blobKey = new StorageSharedKeyCredential(a.name, a.key);
  const container = (containerName: string, permissions: string): string =>
    generateBlobSASQueryParameters(
      { containerName, permissions: ContainerSASPermissions.parse(permissions), ...w },
      blobKey,
    ).toString();
  const queueName = jobQueueName(pool);
  return {
    pool,
    expiresAt: w.expiresOn.toISOString(),
    endpoints: a.endpoints,
    queue: {
      name: queueName,
      sas: generateQueueSASQueryParameters(
        { queueName, permissions: QueueSASPermissions.parse('rup'), ...w },
        new QueueKeyCredential(a.name, a.key),
      ).toString(),
    },
    containers: {
      [ARTIFACTS_CONTAINER]: container(ARTIFACTS_CONTAINER, 'racw'),
      [SNAPSHOTS_CONTAINER]: container(SNAPSHOTS_CONTAINER, 'r'),
    },
  };
}

/** Credentials for one job: its row and its log, nothing else of the run. */
export function jobCredentials(
  row: Pick<JobRow, 'runId' | 'jobId' | 'stepName' | 'attempt' | 'spec'>,
  ttlMs: number,
): JobCredentials {
  const a = account();
  const w = window(ttlMs);
  const pk = tableKey(row.runId);
  const rk = tableKey(row.jobId);
  const sas = generateTableSas(JOBS_TABLE, new AzureNamedKeyCredential(a.name, a.key), {
    permissions: { query: true, update: true },
    startsOn: w.startsOn,
    expiresOn: w.expiresOn,
    startPartitionKey: pk,
    endPartitionKey: pk,
    startRowKey: rk,
    endRowKey: rk,
  });
  const log = logBlobName(row.runId, row.stepName, row.attempt, row.spec.batch);
  return {
    runId: row.runId,
    jobId: row.jobId,
    expiresAt: w.expiresOn.toISOString(),
    table: { name: JOBS_TABLE, partitionKey: pk, rowKey: rk, sas: sas.replace(/^\?/, '') },
    blobs: {
      [`${LOGS_CONTAINER}/${log}`]: generateBlobSASQueryParameters(
        {
          containerName: LOGS_CONTAINER,
          blobName: log,
          permissions: BlobSASPermissions.parse('racw'),
          ...w,
        },
        new StorageSharedKeyCredential(a.name, a.key),
      ).toString(),
    },
  };
}
