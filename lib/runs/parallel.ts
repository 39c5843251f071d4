import { PassThrough, Readable } from 'node:stream';
import type { JobInput, JobSpec } from '../compute/job';
import { submitJob } from '../compute/dispatch';
import { readJob } from '../compute/jobs';
import { openFile, putManifest, putStream, readManifest, readSmall } from '../data/cas';
import type { Manifest, ManifestEntry } from '../data/hash';
import { shardEntryName } from '../compute/shard';
import {
  batchJobId,
  gatherPlan,
  gatherShardsPlan,
  nextBatches,
  planShards,
  planMiniBatches,
  splitLines,
  type BatchOutput,
  type BatchState,
} from './parallel-plan';
import type { StepOutputRef } from './plan';

/**
 * The I/O half of the `parallelRun` step kind (the decisions are in parallel-plan.ts): cutting the input
 * into mini-batches and those into content-addressed shard directories, enqueuing shard jobs (and sweep
 * and automl trial jobs, one per trial), and gathering their outputs.
 */

/** A file input is split in memory: at most 256 MiB (a bigger one should be a directory of parts). */
const MAX_LINES_INPUT = 256 * 1024 * 1024;

/** What each shard job needs of the step besides its mini-batches. */
export interface ShardOptions {
  /** Batch jobs at once: the shard count follows from it (`planShards`). */
  slots: number;
  /** Extra attempts per mini-batch, run inside the shard's job. */
  retries: number;
  outputAction: 'appendRow' | 'summaryOnly';
}

/**
 * Splits the input into mini-batches, and the mini-batches into contiguous shards (one job each): a
 * directory's files, `miniBatchSize` a batch in path order; a file's lines, each batch stored as a file.
 * Each shard is stored as one directory manifest with an entry per mini-batch named by its index
 * (`<index>/<path>` for a directory's files, `<index>` for a batch of lines), so no bytes are copied and
 * the plan holds one small state per shard however many mini-batches there are.
 */
export async function makeBatches(
  inputHash: string,
  inputType: 'file' | 'directory',
  miniBatchSize: number,
  opts: ShardOptions,
): Promise<BatchState[]> {
  let perBatch: ManifestEntry[][];
  if (inputType === 'file') {
    const chunks = splitLines((await readSmall(inputHash, MAX_LINES_INPUT)).toString('utf8'), miniBatchSize);
    perBatch = await Promise.all(
      chunks.map(async (text, i) => {
        const r = await putStream(Readable.from([Buffer.from(text, 'utf8')]));
        return [{ path: shardEntryName(i), hash: r.hash, size: r.size, mode: 0o644 }];
      }),
    );
  } else {
    const manifest = await readManifest(inputHash);
    const byPath = new Map(manifest.map((e) => [e.path, e]));
    perBatch = planMiniBatches([...byPath.keys()], miniBatchSize).map((b) =>
      b.paths.map((p) => ({ ...byPath.get(p)!, path: `${shardEntryName(b.index)}/${p}` })),
    );
  }
  return Promise.all(
    planShards(perBatch.length, opts.slots).map(async ({ first, count }) => {
      const r = await putManifest(perBatch.slice(first, first + count).flat());
      return {
        status: 'NotStarted' as const,
        attempt: 0,
        input: r.hash,
        ...(inputType === 'file' ? { inputType: 'file' as const } : {}),
        first,
        count,
        retries: opts.retries,
        outputAction: opts.outputAction,
      };
    }),
  );
}

/** Starts the batches that may start now; returns the batches with those marked Running. */
export async function enqueueBatches(
  base: Omit<JobSpec, 'jobId' | 'attempt' | 'inputs' | 'notify'> & { inputs?: JobInput[] },
  batches: BatchState[],
  slots: number,
  /** Epoch ms: failed batches whose retry back-off ended by then start again. */
  now: number,
  /** What differs per job (automl: the command with the trial's values); default: the batch directory as `input`. */
  perJob: (
    b: BatchState,
  ) => Partial<Pick<JobSpec, 'inputs' | 'command' | 'args' | 'env' | 'outputs' | 'timeoutMs' | 'shard'>> = (
    b,
  ) => ({
    // The batch (a shard: its directory of mini-batches) as `input`; side inputs (a model) whole, as the
    // step declared them.
    inputs: [
      ...(base.inputs ?? []).filter((i) => i.name !== 'input'),
      {
        name: 'input',
        hash: b.input!,
        type: b.count !== undefined ? 'directory' : (b.inputType ?? 'directory'),
      },
    ],
    ...(b.count !== undefined
      ? {
          shard: {
            first: b.first ?? 0,
            count: b.count,
            batchType: b.inputType ?? 'directory',
            retries: b.retries ?? 0,
            outputAction: b.outputAction ?? 'appendRow',
          },
        }
      : {}),
  }),
): Promise<BatchState[]> {
  const next = nextBatches(batches, slots, now);
  // Batches that do not start keep their objects: the plan's delta compares by reference first.
  const out = batches.slice();
  await Promise.all(
    next.map(async (i) => {
      const b = out[i]!;
      const attempt = b.attempt + 1;
      const jobId = batchJobId(base.stepName, i, attempt);
      await submitJob({
        ...base,
        inputs: base.inputs ?? [],
        ...perJob(b),
        jobId,
        attempt,
        batch: i,
        notify: { instanceId: base.runId, eventName: `job:${jobId}` },
      });
      // The previous attempt's failure stays until this one ends: the run document lists batch errors.
      out[i] = { ...b, status: 'Running', attempt };
      delete out[i].retryAt;
    }),
  );
  return out;
}

/**
 * Gathers each declared output over the succeeded batches (shards): `appendRow` concatenates them into
 * one file (shard order, which is mini-batch order), `summaryOnly` merges their `batch-NNNN/…` folders
 * into one directory.
 */
export async function gatherOutputs(
  runId: string,
  step: string,
  batches: readonly BatchState[],
  outputNames: readonly string[],
  action: 'appendRow' | 'summaryOnly',
): Promise<Record<string, StepOutputRef>> {
  const rows = await Promise.all(
    batches.map((b, i) =>
      b.status === 'Succeeded' ? readJob(runId, batchJobId(step, i, b.attempt)) : undefined,
    ),
  );
  const out: Record<string, StepOutputRef> = {};
  for (const name of outputNames) {
    const per: Array<BatchOutput | undefined> = await Promise.all(
      rows.map(async (row) => {
        const o = row?.result?.outputs.find((x) => x.name === name);
        if (!o) return undefined;
        if (o.type === 'file') return { type: 'file' as const, hash: o.hash, size: o.size ?? 0 };
        return { type: 'directory' as const, manifest: await readManifest(o.hash) };
      }),
    );
    const plan = batches.some((b) => b.count !== undefined)
      ? gatherShardsPlan(action, per)
      : gatherPlan(action, per);
    if (plan.type === 'directory') {
      const r = await putManifest(plan.manifest as Manifest);
      out[name] = { type: 'directory', hash: r.hash, size: plan.manifest.reduce((n, e) => n + e.size, 0) };
    } else {
      const r = await putStream(concatenate(plan.parts.map((p) => p.hash)));
      out[name] = { type: 'file', hash: r.hash, size: r.size };
    }
  }
  return out;
}

function concatenate(hashes: string[]): PassThrough {
  const pass = new PassThrough();
  void (async () => {
    for (const h of hashes) {
      const { stream } = await openFile(h);
      for await (const chunk of stream)
        if (!pass.write(chunk)) await new Promise((r) => pass.once('drain', r));
    }
    pass.end();
  })().catch((e: unknown) => pass.destroy(e as Error));
  return pass;
}
