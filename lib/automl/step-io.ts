import type { JobResult } from '../compute/job';
import { readJob } from '../compute/jobs';
import { readManifest, readSmall } from '../data/cas';
import type { StepDefinition } from '../pipelines/steps-schema';
import { batchJobId, type BatchState } from '../runs/parallel-plan';
import { curveOf, trialsToStop } from '../runs/early-termination';
import { FAMILY_OUTPUT } from './jobs';

/**
 * The I/O a sweep or automl step needs between its batches (lib/runs/kinds/ calls these): the points
 * trials reported, for early termination; the families' results, for the gather. Reads job rows and
 * the content store only.
 */

/** Running sweep trials its early-termination policy stops, judged on every trial's reported points. */
export async function sweepEarlyStops(
  runId: string,
  step: string,
  def: Extract<StepDefinition, { kind: 'sweep' }>,
  batches: readonly BatchState[],
): Promise<number[]> {
  const curves = await Promise.all(
    batches.map(async (b, index) => {
      if (b.status !== 'Running' && b.status !== 'Succeeded') return undefined;
      const row = await readJob(runId, batchJobId(step, index, b.attempt));
      const metrics =
        row?.result?.metrics ?? (row?.progress ? (JSON.parse(row.progress) as JobResult['metrics']) : []);
      return { index, running: b.status === 'Running' && !row?.result, points: curveOf(metrics, def.metric) };
    }),
  );
  return trialsToStop(
    def.earlyTermination!,
    def.goal,
    curves.filter((c): c is NonNullable<typeof c> => c !== undefined),
  );
}

/** A family job's summary.json (its status and error), from its result directory. */
export async function familySummary(hash: string): Promise<{ status?: string; error?: string } | undefined> {
  const entry = (await readManifest(hash)).find((e) => e.path === 'summary.json');
  if (!entry) return undefined;
  try {
    return JSON.parse((await readSmall(entry.hash, 1024 * 1024)).toString('utf8')) as {
      status?: string;
      error?: string;
    };
  } catch {
    return undefined;
  }
}

/** The ended families of an automl step: each succeeded one's result directory, each failed one's end. */
export async function automlGathered(
  runId: string,
  step: string,
  batches: readonly BatchState[],
): Promise<{
  results: Array<{ family: string; hash: string }>;
  failed: Record<string, { status: string; message?: string }>;
}> {
  const results: Array<{ family: string; hash: string }> = [];
  const failed: Record<string, { status: string; message?: string }> = {};
  await Promise.all(
    batches.map(async (b, i) => {
      const family = String(b.params?.family ?? i);
      if (b.status === 'Succeeded') {
        const row = await readJob(runId, batchJobId(step, i, b.attempt));
        const out = row?.result?.outputs.find((o) => o.name === FAMILY_OUTPUT);
        const summary = out ? await familySummary(out.hash) : undefined;
        if (out && summary?.status === 'Completed') results[i] = { family, hash: out.hash };
        else
          failed[family] = {
            status: summary?.status ?? 'Failed',
            message: summary?.error ?? 'the family job wrote no result',
          };
      } else
        failed[family] = {
          status: b.failure?.code === 'timeout' ? 'TimedOut' : 'Failed',
          ...(b.failure?.message ? { message: b.failure.message } : {}),
        };
    }),
  );
  return { results: results.filter(Boolean), failed };
}
