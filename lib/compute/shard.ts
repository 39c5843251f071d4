/**
 * The parts of a parallelRun shard job that are not the runner's loop (runner.ts): how the shard's input
 * names its mini-batches, how a mini-batch's outputs join the shard's (concatenated in batch order, or
 * laid out as `batch-NNNN/` folders), the tally of mini-batch fates the job reports, and the log's
 * per-mini-batch sections that the logs endpoint cuts out again.
 */
import { appendFileSync, createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { JobOutput, JobOutputSpec, JobResult } from './job';

export type ShardReport = NonNullable<JobResult['miniBatches']>;
export type MiniBatchError = ShardReport['errors'][number];

/** Failed attempts a shard reports in full (the job row and the plan stay small). */
export const MAX_REPORTED_ERRORS = 5;
/** A mini-batch output up to this size is appended in one synchronous read and write. */
const SMALL_ROWS = 1024 * 1024;
/** A reported failure message is cut to this many characters. */
const MAX_MESSAGE = 500;

/** The name of mini-batch `index` inside its shard's input directory. */
/**
 * How far a running shard has got. The driver rewrites it as each mini-batch ends, the heartbeat carries
 * it on the shard's row (`progress`), and a run read for a client lays it over the step's counts.
 */
export interface ShardProgress {
  succeeded: number;
  failed: number;
  /** The indexes of the mini-batches that failed for good (they run in order: the others ended well). */
  failedBatches: number[];
}

/** A shard's progress from its JSON text; undefined when the text is not one (absent, torn, foreign). */
export function parseShardProgress(text: string | undefined): ShardProgress | undefined {
  if (!text) return undefined;
  try {
    const p = JSON.parse(text) as { succeeded?: unknown; failed?: unknown; failedBatches?: unknown };
    if (typeof p.succeeded !== 'number' || typeof p.failed !== 'number') return undefined;
    const failedBatches = Array.isArray(p.failedBatches)
      ? p.failedBatches.filter((b): b is number => Number.isInteger(b))
      : [];
    return { succeeded: p.succeeded, failed: p.failed, failedBatches };
  } catch {
    return undefined;
  }
}

export function shardEntryName(index: number): string {
  return String(index);
}

/** The folder of mini-batch `index` in a `summaryOnly` output. */
export function summaryFolder(index: number): string {
  return `batch-${String(index).padStart(4, '0')}`;
}

/** The log line that opens one mini-batch attempt's section of a shard's log. */
export function sectionHeader(batch: number, attempt: number): string {
  return `==> batch ${batch}, attempt ${attempt} <==`;
}

/** The log line after the last section (the shard's closing notes). */
export const SHARD_END_HEADER = '==> shard end <==';

const HEADER = /^==> (?:batch (\d+), attempt (\d+)|shard end) <==$/;

/**
 * Mini-batch `batch`'s section of a shard's log: attempt `attempt`, or every attempt when none is given
 * (each under its header). Undefined when the log has no such section.
 */
export function extractSection(log: string, batch: number, attempt?: number): string | undefined {
  const out: string[] = [];
  let keep = false;
  let found = false;
  for (const line of log.split('\n')) {
    const m = HEADER.exec(line);
    if (m) {
      keep =
        m[1] !== undefined && Number(m[1]) === batch && (attempt === undefined || Number(m[2]) === attempt);
      found ||= keep;
      if (keep && attempt !== undefined) continue; // one attempt: its text only
    }
    if (keep) out.push(line);
  }
  if (!found) return undefined;
  const text = out.join('\n');
  return text && !text.endsWith('\n') ? `${text}\n` : text;
}

/** What a shard's log says before its first section: the job's own notes (inputs, environment). */
export function logPreamble(log: string): string {
  const lines: string[] = [];
  for (const line of log.split('\n')) {
    if (HEADER.test(line)) return lines.length ? `${lines.join('\n')}\n` : '';
    lines.push(line);
  }
  return '';
}

/** The latest attempt of `batch` that a shard's log has a section for (0 when none). */
export function latestSectionAttempt(log: string, batch: number): number {
  let latest = 0;
  for (const line of log.split('\n')) {
    const m = HEADER.exec(line);
    if (m?.[1] !== undefined && Number(m[1]) === batch) latest = Math.max(latest, Number(m[2]));
  }
  return latest;
}

/** The fates of a shard's mini-batches as they end, for `JobResult.miniBatches`. */
export class ShardTally {
  private succeeded = 0;
  private readonly failed: number[] = [];
  private readonly errors: MiniBatchError[] = [];
  private firstFinal: MiniBatchError | undefined;

  /** One failed attempt; `final` when the mini-batch is not tried again. */
  attemptFailed(batch: number, attempt: number, code: string, message: string, final: boolean): void {
    const e = { batch, attempt, code, message: message.slice(0, MAX_MESSAGE) };
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push(e);
    if (final) {
      this.failed.push(batch);
      this.firstFinal ??= e;
    }
  }

  batchSucceeded(): void {
    this.succeeded++;
  }

  /** The report: the first failed attempts, and the first final failure even when past them. */
  report(): ShardReport {
    const errors = this.errors.slice();
    const f = this.firstFinal;
    if (f && !errors.some((e) => e.batch === f.batch && e.attempt === f.attempt)) errors.push(f);
    return { succeeded: this.succeeded, failed: this.failed.slice(), errors };
  }
}

/**
 * The shard's outputs, built locally as mini-batches succeed and uploaded once at the end: `appendRow`
 * appends each mini-batch's file (a directory's files in path order) to one file per output;
 * `summaryOnly` moves each mini-batch's output under `batch-NNNN/` of one directory per output.
 */
export class ShardOutputs {
  constructor(
    private readonly root: string,
    private readonly outputs: ReadonlyArray<JobOutputSpec & { file: string }>,
    private readonly action: 'appendRow' | 'summaryOnly',
  ) {}

  async open(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const o of this.outputs) {
      const p = join(this.root, o.file);
      if (this.action === 'appendRow') await writeFile(p, '');
      else await mkdir(p, { recursive: true });
    }
  }

  /** Adds a succeeded mini-batch's outputs (found in `outputsDir`, already checked against the contract). */
  async add(index: number, outputsDir: string): Promise<void> {
    for (const o of this.outputs) {
      const src = join(outputsDir, o.file);
      const dst = join(this.root, o.file);
      if (this.action === 'summaryOnly') {
        const to =
          o.type === 'file' ? join(dst, summaryFolder(index), 'output') : join(dst, summaryFolder(index));
        await mkdir(dirname(to), { recursive: true });
        await rename(src, to);
        continue;
      }
      const files = o.type === 'file' ? [src] : await filesInPathOrder(src);
      for (const f of files) {
        // Rows are small: one synchronous read and append (microseconds) rather than a stream's event-loop hops.
        if (statSync(f).size <= SMALL_ROWS) appendFileSync(dst, readFileSync(f));
        else await pipeline(createReadStream(f), createWriteStream(dst, { flags: 'a' }));
      }
    }
  }

  /**
   * Stores each output by content with `put` (the storage side's `putFile`/`putDirectory`, so this module,
   * which the shard driver loads, needs no storage client): a file (`appendRow`) or a directory
   * (`summaryOnly`).
   */
  async upload(put: {
    file(path: string): Promise<{ hash: string; size: number }>;
    directory(path: string): Promise<{ hash: string; size: number }>;
  }): Promise<JobOutput[]> {
    const out: JobOutput[] = [];
    for (const o of this.outputs) {
      const p = join(this.root, o.file);
      const type = this.action === 'appendRow' ? 'file' : 'directory';
      const r = type === 'file' ? await put.file(p) : await put.directory(p);
      out.push({ name: o.name, type, hash: r.hash, size: r.size });
    }
    return out;
  }
}

/** A directory's files, recursively, ordered by their path relative to it (code-point order, `/`). */
async function filesInPathOrder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((d) => d.isFile())
    .map((d) => {
      const full = join(d.parentPath, d.name);
      return { full, rel: relative(dir, full).split(sep).join('/') };
    });
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return files.map((f) => f.full);
}
