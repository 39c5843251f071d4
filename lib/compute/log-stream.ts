/**
 * Streams a step's stdout and stderr to an append blob while it runs (container `logs`,
 * `<runId>/<step>/<attempt>.log`), so `runs logs -f` can follow it. Output is buffered and appended
 * every ~250 ms or 64 KiB, whichever comes first; appends are serialised. An append blob holds at most
 * 50,000 blocks, so a long, chatty job flushes less often as the count grows.
 */
import type { AppendBlobClient, ContainerClient } from '@azure/storage-blob';
import { getClients } from '../azure/clients';

export const LOGS_CONTAINER = 'logs';
const MAX_APPEND = 4 * 1024 * 1024;
const MAX_BLOCKS = 50_000;

export function logBlobName(runId: string, step: string, attempt: number): string {
  return `${runId}/${step}/${attempt}.log`;
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
}

export class BlobLogWriter {
  private buffer: Buffer[] = [];
  private buffered = 0;
  private blocks = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Bytes that could not be appended (storage errors); reported, never fatal to the job. */
  dropped = 0;
  lastError: unknown;

  private constructor(
    private readonly blob: () => AppendBlobClient,
    private readonly flushMs: number,
    private readonly flushBytes: number,
  ) {}

  /**
   * A writer that accepts output at once; the blob is created in the background, before the first
   * append (so creating it costs the job no time). A failed create is reported through `lastError`.
   */
  static open(runId: string, step: string, attempt: number, opts: LogWriterOptions = {}): BlobLogWriter {
    const name = logBlobName(runId, step, attempt);
    let blob: AppendBlobClient | undefined;
    const w = new BlobLogWriter(() => blob!, opts.flushMs ?? 250, opts.flushBytes ?? 64 * 1024);
    w.chain = logsContainer()
      .then((c) => {
        blob = c.getAppendBlobClient(name);
        // Recreate: the log holds only this attempt.
        return blob.create({ blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' } });
      })
      .then(
        () => undefined,
        (e: unknown) => {
          w.lastError = e;
        },
      );
    return w;
  }

  /** Opens the writer and waits until its blob exists. */
  static async create(
    runId: string,
    step: string,
    attempt: number,
    opts: LogWriterOptions = {},
  ): Promise<BlobLogWriter> {
    const w = BlobLogWriter.open(runId, step, attempt, opts);
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

  private flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffered === 0) return this.chain;
    const data = Buffer.concat(this.buffer, this.buffered);
    this.buffer = [];
    this.buffered = 0;
    this.chain = this.chain.then(async () => {
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

  /** Flushes what is left and stops accepting output. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.chain;
  }
}
