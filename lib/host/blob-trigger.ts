/**
 * Blob triggers (`app.storageBlob`), polling like the storage extension's container scan: every
 * blob whose name matches the trigger path and whose version (ETag) has no completed **blob
 * receipt** runs the function once. Receipts live where the extension keeps them
 * (`azure-webjobs-hosts/blobreceipts/<hostId>/Host.Functions.<name>/<etag>/<container>/<blob>`), so
 * a version that ran is not run again after a restart, and a lease on the receipt keeps two hosts
 * from running one version at once. A version that fails `maxDequeueCount` times is reported on
 * `webjobs-blobtrigger-poison` with the extension's message and not tried again.
 */
import type { BlobItem, BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { getClock, type ClockTimer } from './clock';
import type { HostLogger } from './types';
import { BindingExpressionError } from './blobs';

/** The extension's poison queue for blob triggers (one per storage account). */
export const BLOB_POISON_QUEUE = 'webjobs-blobtrigger-poison';

/** How often a container is scanned (the extension's polling interval for small containers). */
export const BLOB_SCAN_INTERVAL_MS = 10_000;

const RECEIPT_LEASE_S = 60;

/**
 * Attempts before a blob version goes to the poison queue: host.json
 * `extensions.blobs.poisonBlobThreshold` (the storage extension v5 setting), else the queues'
 * `maxDequeueCount` (the extension's blob-trigger queue obeys it), else 5.
 */
export function blobPoisonThreshold(hostJson: Record<string, any>, queueMaxDequeueCount: number): number {
  const v = hostJson?.extensions?.blobs?.poisonBlobThreshold as unknown;
  if (v === undefined || v === null) return queueMaxDequeueCount;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new BindingExpressionError(
      `host.json extensions.blobs.poisonBlobThreshold is ${JSON.stringify(v)}; give a whole number of attempts (>= 1).`,
    );
  return n;
}

export interface BlobTriggerPath {
  container: string;
  /** The literal start of blob names (listing prefix). */
  prefix: string;
  /** Matches a blob name; named groups are the `{name}` parameters of the path. */
  pattern: RegExp;
  params: string[];
}

/**
 * Parses `container/{name}.txt`-style trigger paths. The container must be literal (as in the
 * extension); `{x}` parameters match any run of characters in the blob name, shortest first.
 */
export function parseBlobTriggerPath(path: string, functionName: string): BlobTriggerPath {
  const clean = path.trim().replace(/^\/+/, '');
  const slash = clean.indexOf('/');
  const container = slash < 0 ? clean : clean.slice(0, slash);
  const blob = slash < 0 ? '' : clean.slice(slash + 1);
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(container) && container !== '$root')
    throw new BindingExpressionError(
      `Function "${functionName}": blob trigger path "${path}" must start with a container name (3-63 lower-case letters, digits and single hyphens); binding expressions are not allowed there.`,
    );
  const params: string[] = [];
  let re = '';
  let prefix: string | undefined;
  const parts = blob.split(/(\{[^{}]*\})/);
  for (const part of parts) {
    const m = /^\{([^{}]*)\}$/.exec(part);
    if (m) {
      const name = m[1]!.trim();
      if (!/^[A-Za-z_][\w]*$/.test(name))
        throw new BindingExpressionError(
          `Function "${functionName}": blob trigger path "${path}" has the parameter {${name}}; use a name like {name}.`,
        );
      if (params.includes(name))
        throw new BindingExpressionError(
          `Function "${functionName}": blob trigger path "${path}" names {${name}} twice.`,
        );
      prefix ??= re.replace(/\\(.)/g, '$1');
      params.push(name);
      re += `(?<${name}>.+?)`;
    } else re += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  if (blob === '') re = '(?<__all>.+)';
  return { container, prefix: prefix ?? (params.length ? '' : blob), pattern: new RegExp(`^${re}$`), params };
}

export interface BlobTriggerOptions {
  functionName: string;
  hostId: string;
  path: BlobTriggerPath;
  /** The account the blobs are in (the binding's `connection`). */
  blobs: BlobServiceClient;
  /** `azure-webjobs-hosts` in AzureWebJobsStorage: where receipts live. */
  receipts: ContainerClient;
  /** Sends one message to the poison queue (encoded as the host's queues are). */
  poison(message: string): Promise<void>;
  maxDequeueCount: number;
  scanIntervalMs: number;
  /** Blobs run at once (host.json `extensions.queues.batchSize`, as the extension's queue batch). */
  concurrency: number;
  /** Runs the function; resolves when it succeeded. */
  invoke(content: Buffer, metadata: Record<string, unknown>, detail: string): Promise<unknown>;
  /** Counts a scan as host work (manual-clock `wait=true`, shutdown). */
  hold(): () => void;
  log: HostLogger;
}

/** What a blob receipt records about one version (its blob metadata, read case-insensitively). */
export interface ReceiptState {
  completed: boolean;
  poisoned: boolean;
  /** Failed attempts so far. */
  attempts: number;
}

export function receiptState(metadata: Record<string, string> | undefined): ReceiptState {
  return {
    completed: meta(metadata, 'Completed') === 'true',
    poisoned: meta(metadata, 'Poisoned') === 'true',
    attempts: Number(meta(metadata, 'DequeueCount') ?? 0) || 0,
  };
}

/** A version runs while its receipt is neither completed nor poisoned. */
export const isDue = (r: ReceiptState): boolean => !r.completed && !r.poisoned;

/**
 * The receipt after one attempt — pure, so the scan and the model test share it. A success
 * completes it; a failure counts, and the attempt that reaches `maxDequeueCount` poisons it (the
 * caller then sends the poison message, once).
 */
export function afterAttempt(
  r: ReceiptState,
  succeeded: boolean,
  maxDequeueCount: number,
): { next: ReceiptState; poison: boolean } {
  if (succeeded) return { next: { ...r, completed: true }, poison: false };
  const attempts = r.attempts + 1;
  const poison = attempts >= maxDequeueCount;
  return { next: { completed: false, poisoned: poison, attempts }, poison };
}

/** The receipt's metadata for a state (names as the extension writes them). */
function receiptMetadata(functionId: string, r: ReceiptState): Record<string, string> {
  return {
    FunctionId: functionId,
    ...(r.attempts && { DequeueCount: String(r.attempts) }),
    ...(r.completed && { Completed: 'true' }),
    ...(r.poisoned && { Poisoned: 'true' }),
  };
}

const stripQuotes = (etag: string): string => etag.replace(/^W\//, '').replace(/"/g, '');

/** A blob metadata value by case-insensitive key (services differ in the case they return). */
function meta(m: Record<string, string> | undefined, key: string): string | undefined {
  if (!m) return undefined;
  const k = Object.keys(m).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : m[k];
}

/** One blob-triggered function's scanner. */
export class BlobTriggerListener {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A poke arrived during a scan: scan again at once. */
  private again = false;
  /** Versions this process saw finished (completed or poisoned): no receipt read on later scans. */
  private finished = new Set<string>();
  private warned = '';
  private readonly container: ContainerClient;
  private readonly functionId: string;

  constructor(private readonly o: BlobTriggerOptions) {
    this.container = o.blobs.getContainerClient(o.path.container);
    this.functionId = `Host.Functions.${o.functionName}`;
  }

  get containerUrl(): string {
    return this.container.url;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Scans now (a blob output binding of this host wrote to the container). */
  poke(): void {
    this.again = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const release = this.o.hold();
      this.again = false;
      try {
        await this.scan();
        this.warned = '';
      } catch (e) {
        const msg = (e as Error).message;
        if ((e as { statusCode?: number }).statusCode !== 404 && msg !== this.warned)
          this.o.log.warn(
            `Blob trigger '${this.o.functionName}': scanning container '${this.o.path.container}' failed: ${msg}`,
          );
        this.warned = msg;
      } finally {
        release();
      }
      if (!this.stopped && !this.again) await this.sleep(this.o.scanIntervalMs);
    }
  }

  /** Waits `ms` of real time or of the process clock, whichever comes first, or until poked. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let clockTimer: ClockTimer | undefined;
      const done = (): void => {
        clearTimeout(t);
        clockTimer?.cancel();
        this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      const clock = getClock();
      if (clock.manual) clockTimer = clock.setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async scan(): Promise<void> {
    const { prefix, pattern } = this.o.path;
    const due: Array<{ item: BlobItem; params: Record<string, string> }> = [];
    for await (const item of this.container.listBlobsFlat({
      prefix: prefix || undefined,
      includeMetadata: true,
    })) {
      if (this.stopped) return;
      const m = pattern.exec(item.name);
      if (!m) continue;
      if (this.finished.has(`${item.name}\n${item.properties.etag}`)) continue;
      const params: Record<string, string> = {};
      for (const p of this.o.path.params) params[p] = m.groups![p]!;
      due.push({ item, params });
    }
    // Oldest first, as the extension's scan orders by last-modified time.
    due.sort((a, b) => a.item.properties.lastModified.getTime() - b.item.properties.lastModified.getTime());
    // Up to `concurrency` blobs at a time, as the extension's blob-trigger queue hands out a batch.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!this.stopped && next < due.length) {
        const d = due[next++]!;
        await this.process(d.item, d.params).catch((e: unknown) =>
          // Storage trouble with one blob (its receipt, its content): the next scan tries it again.
          this.o.log.warn(
            `Blob trigger '${this.o.functionName}': ${this.o.path.container}/${d.item.name}: ${(e as Error).message}`,
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, due.length) }, worker));
  }

  private async process(item: BlobItem, params: Record<string, string>): Promise<void> {
    // Listings give the ETag bare, responses quoted: receipts use it bare, everything else quoted.
    const bare = stripQuotes(item.properties.etag ?? '');
    const etag = `"${bare}"`;
    const key = `${item.name}\n${item.properties.etag}`;
    const container = this.o.path.container;
    const receipt = this.o.receipts.getBlockBlobClient(
      `blobreceipts/${this.o.hostId}/${this.functionId}/${bare}/${container}/${item.name}`,
    );
    let metadata: Record<string, string> | undefined;
    try {
      metadata = (await receipt.getProperties()).metadata;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      await this.o.receipts.createIfNotExists();
      await receipt
        .upload('', 0, { conditions: { ifNoneMatch: '*' }, metadata: { FunctionId: this.functionId } })
        .catch((x: { statusCode?: number }) => {
          if (x.statusCode !== 409 && x.statusCode !== 412) throw x;
        });
      metadata = {};
    }
    if (!isDue(receiptState(metadata))) {
      this.finished.add(key);
      return;
    }
    const lease = receipt.getBlobLeaseClient();
    try {
      await lease.acquireLease(RECEIPT_LEASE_S);
    } catch (e) {
      // Another host is running this version (or just did): its receipt decides, not us.
      if ((e as { statusCode?: number }).statusCode === 409) return;
      throw e;
    }
    const renew = setInterval(() => void lease.renewLease().catch(() => {}), (RECEIPT_LEASE_S * 1000) / 2);
    renew.unref();
    const conditions = { leaseId: lease.leaseId };
    try {
      // Re-read under the lease: a host that finished in between has marked the receipt.
      const state = receiptState((await receipt.getProperties()).metadata);
      if (!isDue(state)) {
        this.finished.add(key);
        return;
      }
      const attempt = state.attempts + 1;
      let content: Buffer;
      try {
        content = await this.container
          .getBlobClient(item.name)
          .downloadToBuffer(undefined, undefined, { conditions: { ifMatch: etag } });
      } catch (e) {
        const status = (e as { statusCode?: number }).statusCode;
        // Deleted or replaced since the listing: the newer version (if any) is found by the next scan.
        if (status === 404 || status === 412) return;
        throw e;
      }
      const blobClient = this.container.getBlobClient(item.name);
      const triggerMetadata: Record<string, unknown> = {
        BlobTrigger: `${container}/${item.name}`,
        Uri: blobClient.url,
        Properties: {
          ETag: etag,
          LastModified: item.properties.lastModified.toISOString(),
          ContentType: item.properties.contentType,
          ContentLength: item.properties.contentLength,
          BlobType: item.properties.blobType,
        },
        Metadata: item.metadata ?? {},
        ...params,
      };
      let succeeded = true;
      try {
        await this.o.invoke(content, triggerMetadata, `blob=${container}/${item.name}, attempt=${attempt}`);
      } catch {
        succeeded = false; // the invoker logged the failure
      }
      const { next, poison } = afterAttempt(state, succeeded, this.o.maxDequeueCount);
      if (poison) {
        await this.o.poison(
          JSON.stringify({
            Type: 'BlobTrigger',
            FunctionId: this.functionId,
            BlobType: 'BlockBlob',
            ContainerName: container,
            BlobName: item.name,
            ETag: etag,
          }),
        );
        this.o.log.warn(
          `Blob trigger '${this.o.functionName}': ${container}/${item.name} failed ${next.attempts} times (maxDequeueCount ${this.o.maxDequeueCount}); reported on '${BLOB_POISON_QUEUE}' and not tried again until it changes.`,
        );
      }
      await receipt.setMetadata(receiptMetadata(this.functionId, next), { conditions });
      if (!isDue(next)) this.finished.add(key);
    } finally {
      clearInterval(renew);
      await lease.releaseLease().catch(() => {});
    }
  }
}
