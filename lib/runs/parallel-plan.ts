import type { JobFailureCode } from '../compute/job';
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
    const dir = `batch-${String(i).padStart(4, '0')}`;
    if (o.type === 'file') manifest.push({ path: `${dir}/output`, hash: o.hash, size: o.size, mode: 0o644 });
    else for (const e of sortedEntries(o.manifest)) manifest.push({ ...e, path: `${dir}/${e.path}` });
  });
  return { type: 'directory', manifest };
}

function sortedEntries(m: Manifest): Manifest {
  return [...m].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
