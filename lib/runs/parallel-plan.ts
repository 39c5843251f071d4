import type { JobFailureCode } from '../compute/job';
import { summaryFolder, type MiniBatchError, type ShardReport } from '../compute/shard';
import type { Manifest, ManifestEntry } from '../data/hash';
import { failureDecision, retryBackoffMs } from './failure-policy';

/**
 * Pure planning for the `parallelRun` step kind (batch scoring): how an input directory splits into
 * mini-batches, which batch jobs to start next, whether a failed batch retries, whether the step as a
 * whole failed (`errorThreshold`), and how per-batch outputs gather into the step's output. Nothing here
 * does I/O or reads a clock, so the orchestration can call it on replay and the unit tests call it directly.
 */

export interface MiniBatch {
  /** 0-based, in path order. */
  index: number;
  /** Paths relative to the input directory, sorted. */
  paths: string[];
}

/** Splits files into batches of `size` in path order (code-point order, so every platform agrees). */
export function planMiniBatches(files: readonly string[], size: number): MiniBatch[] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`miniBatchSize must be an integer ≥ 1, got ${size}`);
  const sorted = [...new Set(files)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: MiniBatch[] = [];
  for (let i = 0; i < sorted.length; i += size)
    out.push({ index: out.length, paths: sorted.slice(i, i + size) });
  return out;
}

/**
 * A text file's mini-batches: `size` lines each, every line keeping its end (a last line without one
 * gets none added), so concatenating the batches gives the file back.
 */
export function splitLines(text: string, size: number): string[] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`miniBatchSize must be an integer ≥ 1, got ${size}`);
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += size) out.push(lines.slice(i, i + size).join(''));
  return out;
}

/** The text of the `${{minibatch}}` file: one absolute path per line, in batch order. */
export function miniBatchListing(inputDir: string, batch: MiniBatch): string {
  const base = inputDir.replace(/\/+$/, '');
  return batch.paths.map((p) => `${base}/${p}\n`).join('');
}

/** Deterministic job id of one batch attempt: `<step>.b<index>.<attempt>`. */
export function batchJobId(step: string, index: number, attempt: number): string {
  return `${step}.b${index}.${attempt}`;
}

export type BatchStatus = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed';

export interface BatchState {
  status: BatchStatus;
  /** Attempts started so far. */
  attempt: number;
  /** Content hash of the batch's directory (a manifest of its files), made once when the step starts. */
  input?: string;
  /** The batch is a file of lines (the step's input was a file), not a directory. */
  inputType?: 'file';
  /** automl: this trial's parameter values. */
  params?: Record<string, string | number | boolean>;
  /** The latest failed attempt's failure (kept while a retry runs, for the run document's batch errors). */
  failure?: { code: string; message: string; attempt?: number };
  /** Epoch ms: a failed batch that will be tried again waits until then (the step's retry back-off). */
  retryAt?: number;
  /**
   * parallelRun shard: the first mini-batch it runs and how many (contiguous). A shard is one job that
   * runs its mini-batches one after another; `input` is then the shard's directory (one entry per
   * mini-batch, named by its index) and `inputType` the type of each mini-batch.
   */
  first?: number;
  count?: number;
  /** parallelRun shard: what each mini-batch needs of the step (the job's `shard` field). */
  retries?: number;
  outputAction?: 'appendRow' | 'summaryOnly';
  /** A shard that ran: the mini-batches that finally failed inside it (their retries spent). */
  failed?: number[];
  /** A shard that ran: its first failed mini-batch attempts (at most `MAX_SHARD_ERRORS`, plus the first final one). */
  errors?: MiniBatchError[];
}

/**
 * A batch's attempt failed. It is tried again after the step's back-off when the failure is worth another
 * attempt (the same closed family and switch as whole steps) and attempts remain; `retryAt` says when.
 */
export function batchFailed(
  b: BatchState,
  failure: { code: JobFailureCode; message: string },
  retries: number,
  now: number,
): BatchState {
  const next: BatchState = { ...b, status: 'Failed', failure: { ...failure, attempt: b.attempt } };
  delete next.retryAt;
  if (failureDecision(failure.code).retryable && b.attempt <= retries)
    next.retryAt = now + retryBackoffMs(b.attempt);
  return next;
}

/** A failed batch still to be tried again (it has a `retryAt`, set by `batchFailed`). */
function willRetry(b: BatchState): boolean {
  return b.status === 'Failed' && b.retryAt !== undefined;
}

/**
 * The earliest time a failed batch is due for its retry, or undefined. With every slot taken there is
 * none: the next batch to end frees a slot and starts the retry then, so the orchestrator need not wake.
 */
export function nextBatchRetryAt(batches: readonly BatchState[], slots = Infinity): number | undefined {
  if (batches.filter((b) => b.status === 'Running').length >= slots) return undefined;
  let at: number | undefined;
  for (const b of batches) if (willRetry(b)) at = at === undefined ? b.retryAt : Math.min(at, b.retryAt!);
  return at;
}

/** The batch a job id names, if it is one of `step`'s batch jobs. */
export function parseBatchJobId(step: string, jobId: string): { index: number; attempt: number } | undefined {
  if (!jobId.startsWith(`${step}.b`)) return undefined;
  const m = /^(\d+)\.(\d+)$/.exec(jobId.slice(step.length + 2));
  return m ? { index: Number(m[1]), attempt: Number(m[2]) } : undefined;
}

/**
 * Batches to start now, in index order, within `slots`: those not started, and failed ones whose retry is
 * due (`retryAt` ≤ `now`).
 */
export function nextBatches(batches: readonly BatchState[], slots: number, now: number): number[] {
  const running = batches.filter((b) => b.status === 'Running').length;
  const free = Math.max(0, slots - running);
  const out: number[] = [];
  for (let i = 0; i < batches.length && out.length < free; i++) {
    const b = batches[i]!;
    if (b.status === 'NotStarted' || (willRetry(b) && b.retryAt! <= now)) out.push(i);
  }
  return out;
}

export type StepVerdict =
  { done: false } | { done: true; ok: true } | { done: true; ok: false; failed: number[] };

/**
 * Whether the step is over. A batch has finally failed when it failed and will not be tried again (no
 * attempt left, or a failure not worth one). With `errorThreshold` -1 any number of failed batches is
 * tolerated; otherwise more than that many fail the step.
 */
export function stepVerdict(batches: readonly BatchState[], errorThreshold: number): StepVerdict {
  const failed: number[] = [];
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    if (b.status === 'Failed' && !willRetry(b)) failed.push(i);
    else if (b.status !== 'Succeeded') return { done: false };
  }
  if (errorThreshold >= 0 && failed.length > errorThreshold) return { done: true, ok: false, failed };
  return { done: true, ok: true };
}

/** One batch's output as the agent reported it: a file (hash) or a directory (its manifest). */
export type BatchOutput =
  { type: 'file'; hash: string; size: number } | { type: 'directory'; manifest: Manifest };

/**
 * How per-batch outputs become the step's output.
 * - `appendRow`: one file, the batches' files concatenated in batch order (directory outputs contribute
 *   their files in path order).
 * - `summaryOnly`: a directory `batch-0000/…`, one folder per batch, so nothing collides.
 * Batches without output (failed within the threshold) are left out.
 */
export function gatherPlan(
  action: 'appendRow' | 'summaryOnly',
  outputs: ReadonlyArray<BatchOutput | undefined>,
):
  { type: 'file'; parts: Array<{ hash: string; size: number }> } | { type: 'directory'; manifest: Manifest } {
  if (action === 'appendRow') {
    const parts: Array<{ hash: string; size: number }> = [];
    for (const o of outputs) {
      if (!o) continue;
      if (o.type === 'file') parts.push({ hash: o.hash, size: o.size });
      else for (const e of sortedEntries(o.manifest)) parts.push({ hash: e.hash, size: e.size });
    }
    return { type: 'file', parts };
  }
  const manifest: ManifestEntry[] = [];
  outputs.forEach((o, i) => {
    if (!o) return;
    const dir = summaryFolder(i);
    if (o.type === 'file') manifest.push({ path: `${dir}/output`, hash: o.hash, size: o.size, mode: 0o644 });
    else for (const e of sortedEntries(o.manifest)) manifest.push({ ...e, path: `${dir}/${e.path}` });
  });
  return { type: 'directory', manifest };
}

function sortedEntries(m: Manifest): Manifest {
  return [...m].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// ---------------------------------------------------------------- shards

/** At most this many shards per parallelRun step, whatever the batch slots. */
export const MAX_SHARDS = 256;
/** Shards per batch slot: enough that the run's tail keeps every slot busy, few enough to be cheap. */
export const SHARDS_PER_SLOT = 4;
/** Failed attempts a shard reports in full (the plan and the job row stay small). */
export const MAX_SHARD_ERRORS = 5;

/**
 * How many shards `total` mini-batches are cut into with `slots` batch jobs at once: about four per slot
 * (so the last shards to end leave at most a quarter of a slot's share of work on a single slot, and a
 * lost shard loses at most 1/(4·slots) of the step), never more than `MAX_SHARDS` (the plan's size and
 * the jobs' fixed cost stay bounded) and never more than there are mini-batches.
 */
export function shardCount(total: number, slots: number): number {
  if (total <= 0) return 0;
  return Math.max(1, Math.min(total, MAX_SHARDS, Math.max(1, slots) * SHARDS_PER_SLOT));
}

/** Contiguous shards over `total` mini-batches: sizes differ by at most one, bigger ones first. */
export function planShards(total: number, slots: number): Array<{ first: number; count: number }> {
  const n = shardCount(total, slots);
  const out: Array<{ first: number; count: number }> = [];
  let first = 0;
  for (let i = 0; i < n; i++) {
    const count = Math.floor(total / n) + (i < total % n ? 1 : 0);
    out.push({ first, count });
    first += count;
  }
  return out;
}

/** A shard's job succeeded: its mini-batches' fates (from the job's report) go on the shard's state. */
export function batchSucceeded(b: BatchState, report?: ShardReport): BatchState {
  const next: BatchState = { ...b, status: 'Succeeded' };
  delete next.retryAt;
  if (b.count === undefined || !report) return next;
  if (report.failed.length) next.failed = report.failed.slice(0, b.count);
  else delete next.failed;
  if (report.errors.length) next.errors = report.errors.slice(0, MAX_SHARD_ERRORS + 1);
  else delete next.errors;
  return next;
}

/** The mini-batches a state stands for: a shard's range, or the batch itself (`index`). */
function miniBatchesOf(b: BatchState, index: number): { first: number; count: number } {
  return b.count === undefined ? { first: index, count: 1 } : { first: b.first ?? 0, count: b.count };
}

/** The failed mini-batches: inside succeeded shards, and every one of a shard that finally failed. */
export function failedMiniBatches(batches: readonly BatchState[]): number[] {
  const out: number[] = [];
  batches.forEach((b, i) => {
    if (b.status === 'Succeeded') out.push(...(b.failed ?? []));
    else if (b.status === 'Failed' && !willRetry(b)) {
      const { first, count } = miniBatchesOf(b, i);
      for (let k = 0; k < count; k++) out.push(first + k);
    }
  });
  return out.sort((x, y) => x - y);
}

/** The step record's `batches` counts, in mini-batch units (a shard counts for its mini-batches). */
export function miniBatchCounts(batches: readonly BatchState[]): {
  total: number;
  running: number;
  succeeded: number;
  failed: number;
  retrying?: number;
} {
  let total = 0;
  let running = 0;
  let succeeded = 0;
  let failed = 0;
  let retrying = 0;
  batches.forEach((b, i) => {
    const { count } = miniBatchesOf(b, i);
    total += count;
    if (b.status === 'Running') running += count;
    else if (b.status === 'Succeeded') {
      failed += b.failed?.length ?? 0;
      succeeded += count - (b.failed?.length ?? 0);
    } else if (b.status === 'Failed') {
      if (willRetry(b)) retrying += count;
      else failed += count;
    }
  });
  return { total, running, succeeded, failed, ...(retrying ? { retrying } : {}) };
}

/**
 * Every failed mini-batch attempt the plan state holds, in mini-batch units: a shard's reported errors,
 * and a shard's own failure (lost, timed out as a whole) under its first mini-batch.
 */
export function miniBatchErrors(batches: readonly BatchState[]): MiniBatchError[] {
  const out: MiniBatchError[] = [];
  batches.forEach((b, i) => {
    out.push(...(b.errors ?? []));
    const f = b.failure;
    if (f && f.attempt !== undefined) {
      const { first, count } = miniBatchesOf(b, i);
      const message =
        count > 1 ? `mini-batches ${first}–${first + count - 1} (one job): ${f.message}` : f.message;
      out.push({ batch: first, attempt: f.attempt, code: f.code, message });
    }
  });
  return out;
}

export type MiniBatchVerdict =
  { done: false } | { done: true; ok: true; tolerated: number } | FailedMiniBatches;

/** A parallelRun step failed past its `errorThreshold`: which mini-batches, of how many, and the first's failure. */
export interface FailedMiniBatches {
  done: true;
  ok: false;
  failed: number[];
  total: number;
  first: { code: string; message: string };
}

/**
 * The mini-batch verdict of a parallelRun step: over once every shard is settled; failed past
 * `errorThreshold` (-1 = any number tolerated) names the first failed mini-batch and its failure.
 */
export function miniBatchVerdict(batches: readonly BatchState[], errorThreshold: number): MiniBatchVerdict {
  if (!stepVerdict(batches, -1).done) return { done: false };
  const failed = failedMiniBatches(batches);
  if (errorThreshold < 0 || failed.length <= errorThreshold)
    return { done: true, ok: true, tolerated: failed.length };
  const at = failed[0]!;
  const errors = miniBatchErrors(batches).filter((e) => e.batch === at);
  const last = errors[errors.length - 1] ?? { code: 'exit-code', message: 'no message' };
  return {
    done: true,
    ok: false,
    failed,
    total: miniBatchCounts(batches).total,
    first: { code: last.code, message: last.message },
  };
}

/**
 * How shard outputs become the step's output: `appendRow` concatenates the shards' files in shard order
 * (each already the concatenation of its mini-batches' in batch order); `summaryOnly` merges the shards'
 * directories, whose `batch-NNNN/` folders are named by mini-batch index, so nothing collides.
 */
export function gatherShardsPlan(
  action: 'appendRow' | 'summaryOnly',
  outputs: ReadonlyArray<BatchOutput | undefined>,
):
  { type: 'file'; parts: Array<{ hash: string; size: number }> } | { type: 'directory'; manifest: Manifest } {
  if (action === 'appendRow') return gatherPlan('appendRow', outputs);
  const manifest: ManifestEntry[] = [];
  for (const o of outputs) {
    if (!o) continue;
    if (o.type === 'directory') manifest.push(...o.manifest);
    else manifest.push({ path: 'output', hash: o.hash, size: o.size, mode: 0o644 });
  }
  return { type: 'directory', manifest: sortedEntries(manifest) };
}
