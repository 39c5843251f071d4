/**
 * A remote agent's storage clients, built from scoped credentials instead of an account key: the pool's
 * queue and the artifact and snapshot containers from pool credentials, each job's row and log from
 * that job's credentials (see credentials.ts). `CredentialSource` fetches them from the service with
 * the agent key and renews them at half-life; each renewal swaps in a new bundle (`useClients`), so
 * the modules that cache clients per bundle pick the fresh tokens up.
 */
import {
  AnonymousCredential as BlobAnonymous,
  AppendBlobClient,
  BlobServiceClient,
  BlockBlobClient,
  ContainerClient,
} from '@azure/storage-blob';
import { AnonymousCredential, QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import type { CosmosClient } from '@azure/cosmos';
import { useClients, type AzureClients } from '../azure/clients';
import { loadSettings } from '../config/settings';
import { AGENT_KEY_HEADER, type JobCredentials, type PoolCredentials } from './credentials';

/** The service refused the agent key (wrong or revoked): the agent must stop taking jobs. */
export class AgentKeyRefused extends Error {}

export interface CredentialSourceOptions {
  endpoint: string;
  key: string;
  pool: string;
  log: (line: string) => void;
  /** Called once when a renewal is refused. */
  onRefused?: (e: AgentKeyRefused) => void;
}

export class CredentialSource {
  pool?: PoolCredentials;
  readonly jobs = new Map<string, JobCredentials>();
  private timer?: NodeJS.Timeout;
  private generation = 0;
  private stopped = false;

  constructor(private readonly o: CredentialSourceOptions) {}

  private async post<T>(path: string, body: unknown): Promise<T> {
    const url = `${this.o.endpoint.replace(/\/+$/, '')}/api/${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [AGENT_KEY_HEADER]: this.o.key },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      throw new Error(`cannot reach Sluice at ${this.o.endpoint} for credentials: ${(e as Error).message}`);
    }
    const text = await res.text();
    if (res.status === 401) {
      let why = text;
      try {
        why = (JSON.parse(text) as { detail?: string }).detail ?? text;
      } catch {
        /* not JSON */
      }
      throw new AgentKeyRefused(`Sluice refused the agent key: ${why}`);
    }
    if (!res.ok) {
      const err = new Error(`POST ${path} answered ${res.status}: ${text.slice(0, 300)}`);
      (err as Error & { status?: number }).status = res.status;
      throw err;
    }
    return JSON.parse(text) as T;
  }

  /** Fetches the pool's credentials and installs the bundle; throws AgentKeyRefused for a bad key. */
  async start(): Promise<void> {
    await this.renewPool();
    this.schedule();
  }

  /** The job's credentials (its row and log), before the agent reads or claims the row. */
  async forJob(runId: string, jobId: string): Promise<void> {
    const c = await this.post<JobCredentials>('agent-credentials/job', { runId, jobId });
    this.jobs.set(`${runId}/${jobId}`, c);
  }

  dropJob(runId: string, jobId: string): void {
    this.jobs.delete(`${runId}/${jobId}`);
  }

  /** The key was refused while taking a job: stop renewing and tell the owner (once). */
  refused(e: AgentKeyRefused): void {
    if (this.stopped) return;
    this.stop();
    this.o.onRefused?.(e);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async renewPool(): Promise<void> {
    this.pool = await this.post<PoolCredentials>('agent-credentials', { pool: this.o.pool });
    useClients(scopedClients(this, ++this.generation));
  }

  /** Renews at half the remaining lifetime (at least every 10 s apart); a refusal stops the agent. */
  private schedule(): void {
    if (this.stopped || !this.pool) return;
    const left = Date.parse(this.pool.expiresAt) - Date.now();
    this.timer = setTimeout(() => void this.renew(), Math.max(10_000, left / 2));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.renewPool();
      for (const [k, c] of [...this.jobs]) {
        if (
          Date.parse(c.expiresAt) - Date.now() >
          (Date.parse(c.expiresAt) - Date.parse(this.pool!.expiresAt)) / 2
        )
          continue;
        await this.forJob(c.runId, c.jobId).catch((e: unknown) => {
          if (e instanceof AgentKeyRefused) throw e;
          this.o.log(`renewing credentials of job ${k}: ${(e as Error).message}`);
        });
      }
    } catch (e) {
      if (e instanceof AgentKeyRefused) return this.refused(e);
      this.o.log(`renewing credentials failed (retrying): ${(e as Error).message}`);
    }
    this.schedule();
  }
}

/** Finds the SAS for a blob of a job's credentials (the job's log). */
function blobSas(src: CredentialSource, container: string, blob: string): string | undefined {
  for (const c of src.jobs.values()) {
    const s = c.blobs[`${container}/${blob}`];
    if (s) return s;
  }
  return undefined;
}

const DONE = { succeeded: false } as unknown;

class ScopedContainer extends ContainerClient {
  constructor(
    url: string,
    private readonly containerName2: string,
    private readonly src: CredentialSource,
    private readonly scoped: boolean,
  ) {
    super(url);
  }

  // The service made the containers; a SAS cannot create them.
  override createIfNotExists(): ReturnType<ContainerClient['createIfNotExists']> {
    return Promise.resolve(DONE) as ReturnType<ContainerClient['createIfNotExists']>;
  }

  private sasFor(name: string): string | undefined {
    return this.scoped ? undefined : blobSas(this.src, this.containerName2, name);
  }

  override getBlockBlobClient(name: string): BlockBlobClient {
    const c = super.getBlockBlobClient(name);
    const sas = this.sasFor(name);
    return sas ? new BlockBlobClient(`${c.url.split('?')[0]}?${sas}`, new BlobAnonymous()) : c;
  }

  override getAppendBlobClient(name: string): AppendBlobClient {
    const c = super.getAppendBlobClient(name);
    const sas = this.sasFor(name);
    return sas ? new AppendBlobClient(`${c.url.split('?')[0]}?${sas}`, new BlobAnonymous()) : c;
  }
}

class ScopedBlobService extends BlobServiceClient {
  constructor(
    private readonly base: string,
    private readonly src: CredentialSource,
  ) {
    super(base);
  }

  override getContainerClient(name: string): ContainerClient {
    const sas = this.src.pool?.containers[name];
    return new ScopedContainer(`${this.base}/${name}${sas ? `?${sas}` : ''}`, name, this.src, !!sas);
  }
}

class ScopedQueue extends QueueClient {
  override createIfNotExists(): ReturnType<QueueClient['createIfNotExists']> {
    return Promise.resolve(DONE) as ReturnType<QueueClient['createIfNotExists']>;
  }
}

class ScopedQueueService extends QueueServiceClient {
  constructor(
    private readonly base: string,
    private readonly src: CredentialSource,
  ) {
    super(base, new AnonymousCredential());
  }

  override getQueueClient(name: string): QueueClient {
    const q = this.src.pool?.queue;
    return new ScopedQueue(`${this.base}/${name}${q && q.name === name ? `?${q.sas}` : ''}`);
  }
}

class ScopedTable extends TableClient {
  override createTable(): Promise<void> {
    return Promise.resolve();
  }
}

/** The row a table request addresses, from its URL (`table(PartitionKey='…',RowKey='…')`). */
function rowOf(url: string): { pk: string; rk: string } | undefined {
  const path = decodeURIComponent(new URL(url).pathname);
  const m = /\(PartitionKey='((?:[^']|'')*)',RowKey='((?:[^']|'')*)'\)$/.exec(path);
  return m ? { pk: m[1]!.replace(/''/g, "'"), rk: m[2]!.replace(/''/g, "'") } : undefined;
}

export function scopedClients(src: CredentialSource, generation: number): AzureClients {
  const pool = src.pool!;
  const insecure = pool.endpoints.table.startsWith('http:');
  const tables = new Map<string, TableClient>();
  const table = (name: string): TableClient => {
    let t = tables.get(name);
    if (!t) {
      t = new ScopedTable(pool.endpoints.table, name, {
        allowInsecureConnection: insecure,
        additionalPolicies: [
          {
            position: 'perCall',
            policy: {
              name: 'sluice-job-sas',
              sendRequest(request, next) {
                const row = rowOf(request.url);
                const c = row
                  ? [...src.jobs.values()].find(
                      (j) => j.table.partitionKey === row.pk && j.table.rowKey === row.rk,
                    )
                  : undefined;
                if (c) request.url += (request.url.includes('?') ? '&' : '?') + c.table.sas;
                return next(request);
              },
            },
          },
        ],
      });
      tables.set(name, t);
    }
    return t;
  };
  const noCosmos = (): never => {
    throw new Error(
      'A remote agent has no database access; it works through its scoped storage credentials.',
    );
  };
  return {
    settings: { ...loadSettings(), storageConnectionString: `scoped:${pool.pool}:${generation}` },
    blob: new ScopedBlobService(pool.endpoints.blob, src),
    queue: new ScopedQueueService(pool.endpoints.queue, src),
    table,
    cosmos: new Proxy({}, { get: noCosmos }) as CosmosClient,
    database: () => Promise.reject(new Error('A remote agent has no database access.')),
    container: () => Promise.reject(new Error('A remote agent has no database access.')),
  };
}
