/**
 * Streams a step's stdout and stderr to an append blob while it runs (container `logs`,
 * `<runId>/<step>/<attempt>.log`), so `runs logs -f` can follow it. Output is buffered and appended
 * every ~250 ms or 64 KiB, whichever comes first; appends are serialised. An append blob holds at most
 * 50,000 blocks, so a long, chatty job flushes less often as the count grows. A job that ends before
 * its first flush (most short steps) writes its whole log in one request, as a block blob: readers
 * (`GET …/logs`, ranged reads while following) treat both kinds alike.
 */
import type { AppendBlobClient, ContainerClient } from '@azure/storage-blob';
import { getClients } from '../azure/clients';

export const LOGS_CONTAINER = 'logs';
const MAX_APPEND = 4 * 1024 * 1024;
const MAX_BLOCKS = 50_000;
const CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * Blob metadata a log carries once its writer closed it: the log is whole. A step's completion event may
 * overtake its log's last write, so readers that need the whole log wait for this mark.
 */
export const LOG_COMPLETE_META = 'sluicecomplete';

export function isLogComplete(metadata: Record<string, string> | undefined): boolean {
  return metadata?.[LOG_COMPLETE_META] === 'true';
}

/** A step attempt's log; a mini-batch's (or trial's) attempts have their own folder per batch. */
export function logBlobName(runId: string, step: string, attempt: number, batch?: number): string {
  return batch === undefined
    ? `${runId}/${step}/${attempt}.log`
    : `${runId}/${step}/batch-${batch}/${attempt}.log`;
}

/**
 * A parallelRun shard's attempt log: one blob for mini-batches `first`…`last`, a `==> batch N, attempt A
 * <==` section each (lib/compute/shard.ts); the logs endpoint finds a mini-batch's shard by the name.
 */
export function shardLogBlobName(
  runId: string,
  step: string,
  shard: { first: number; count: number },
  attempt: number,
): string {
  return `${runId}/${step}/shard-${shard.first}-${shard.first + shard.count - 1}/${attempt}.log`;
}

/** The blob-name prefix of every shard log of a step. */
export function shardLogPrefix(runId: string, step: string): string {
  return `${runId}/${step}/shard-`;
}

/** A shard log's blob name read back: its mini-batch range and attempt. */
export function parseShardLogName(
  name: string,
): { first: number; last: number; attempt: number } | undefined {
  const m = /\/shard-(\d+)-(\d+)\/(\d+)\.log$/.exec(name);
  return m ? { first: Number(m[1]), last: Number(m[2]), attempt: Number(m[3]) } : undefined;
}

/** The blob-name prefix of every log of one batch of a step. */
export function batchLogPrefix(runId: string, step: string, batch: number): string {
  return `${runId}/${step}/batch-${batch}/`;
}

let logs: { key: unknown; p: Promise<ContainerClient> } | undefined;

async function logsContainer(): Promise<ContainerClient> {
  const blob = getClients().blob;
  if (logs?.key !== blob) {
    const c = blob.getContainerClient(LOGS_CONTAINER);
    logs = { key: blob, p: c.createIfNotExists().then(() => c) };
  }
  return logs.p;
}

export interface LogWriterOptions {
  /** @default 250 */
  flushMs?: number;
  /** @default 65536 */
  flushBytes?: number;
  /** A mini-batch's (or trial's) index: its log goes to that batch's folder. */
  batch?: number;
  /** A parallelRun shard: its one log is named by its mini-batch range (`shardLogBlobName`). */
  shard?: { first: number; count: number };
}

export class BlobLogWriter {
  private buffer: Buffer[] = [];
  private buffered = 0;
  private blocks = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Flushes started; the first creates the blob. */
  private flushes = 0;
  /** Bytes that could not be appended (storage errors); reported, never fatal to the job. */
  dropped = 0;
  lastError: unknown;

  /** The append blob, once created (by the first flush before close). */
  private appendBlob: AppendBlobClient | undefined;

  private constructor(
    private readonly name: string,
    private readonly flushMs: number,
    private readonly flushBytes: number,
  ) {}

  private blob(): AppendBlobClient {
    return this.appendBlob!;
  }

  /** Creates (recreates: the log holds only this attempt) the append blob; on the serial chain. */
  private createAppendBlob(): void {
    this.chain = this.chain
      .then(() => logsContainer())
      .then(async (c) => {
        const blob = c.getAppendBlobClient(this.name);
        await blob.create({ blobHTTPHeaders: { blobContentType: CONTENT_TYPE } });
        this.appendBlob = blob;
      })
      .catch((e: unknown) => {
        this.lastError = e;
      });
  }

  /**
   * A writer that accepts output at once. The blob is created by the first flush, so a job that ends
   * within `flushMs` costs one request for its whole log. A failed write is reported through `lastError`.
   */
  static open(runId: string, step: string, attempt: number, opts: LogWriterOptions = {}): BlobLogWriter {
    const w = new BlobLogWriter(
      opts.shard
        ? shardLogBlobName(runId, step, opts.shard, attempt)
        : logBlobName(runId, step, attempt, opts.batch),
      opts.flushMs ?? 250,
      opts.flushBytes ?? 64 * 1024,
    );
    // Warm the container (created once per process) so the first write does not wait for it.
    void logsContainer().catch(() => undefined);
    return w;
  }

  /** Opens the writer and waits until its (append) blob exists. */
  static async create(
    runId: string,
    step: string,
    attempt: number,
    opts: LogWriterOptions = {},
  ): Promise<BlobLogWriter> {
    const w = BlobLogWriter.open(runId, step, attempt, opts);
    w.flushes = 1;
    w.createAppendBlob();
    await w.chain;
    if (w.lastError) throw w.lastError;
    return w;
  }

  get url(): string {
    return this.blob().url;
  }

  write(chunk: Buffer | string): void {
    if (this.closed) return;
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (b.length === 0) return;
    this.buffer.push(b);
    this.buffered += b.length;
    if (this.buffered >= this.flushBytes) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.interval());
  }

  /** A line from Sluice itself (phases, errors), marked so it is told apart from the command's output. */
  note(line: string): void {
    this.write(`[sluice ${new Date().toISOString()}] ${line}\n`);
  }

  private interval(): number {
    if (this.blocks > 40_000) return 60_000;
    if (this.blocks > 10_000) return 2_000;
    return this.flushMs;
  }

  private flush(final = false): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffered === 0 && (this.flushes > 0 || !final)) return this.chain;
    const data = Buffer.concat(this.buffer, this.buffered);
    this.buffer = [];
    this.buffered = 0;
    if (this.flushes++ === 0) {
      if (final) {
        // The whole log at once: one request, no append blob.
        this.chain = logsContainer()
          .then((c) =>
            c.getBlockBlobClient(this.name).upload(data, data.length, {
              blobHTTPHeaders: { blobContentType: CONTENT_TYPE },
              metadata: { [LOG_COMPLETE_META]: 'true' },
            }),
          )
          .then(
            () => undefined,
            (e: unknown) => {
              this.dropped += data.length;
              this.lastError = e;
            },
          );
        return this.chain;
      }
      this.createAppendBlob();
    }
    this.chain = this.chain.then(async () => {
      if (!this.appendBlob) {
        this.dropped += data.length;
        return;
      }
      for (let off = 0; off < data.length; off += MAX_APPEND) {
        const part = data.subarray(off, off + MAX_APPEND);
        if (this.blocks >= MAX_BLOCKS - 1) {
          this.dropped += part.length;
          continue;
        }
        try {
          await this.blob().appendBlock(part, part.length);
          this.blocks++;
        } catch (e) {
          this.dropped += part.length;
          this.lastError = e;
        }
      }
    });
    return this.chain;
  }

  /** Flushes what is left, marks the log whole (LOG_COMPLETE_META) and stops accepting output. */
  async close(): Promise<void> {
    const single = this.flushes === 0;
    await this.flush(true);
    this.closed = true;
    await this.chain;
    // A log written in one request carries the mark already; an append blob gets it after its last block.
    if (!single && this.appendBlob)
      await this.appendBlob.setMetadata({ [LOG_COMPLETE_META]: 'true' }).catch((e: unknown) => {
        this.lastError = e;
      });
  }
}
