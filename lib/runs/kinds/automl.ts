import type { JobFailureCode } from '../../compute/job';
import { automlJob, familyBatchParams } from '../../automl/jobs';
import { parseLeaderboard } from '../../automl/leaderboard';
import { automlGathered } from '../../automl/step-io';
import { familySlots, planFamilies } from '../../automl/plan';
import { readSmall } from '../../data/cas';
import type { StepDefinition } from '../../pipelines/steps-schema';
import { batchJobId, type BatchState } from '../parallel-plan';
import type { StepOutputRef } from '../plan';
import { MAX_LEADERBOARD_ROWS, MAX_METRICS_PER_STEP } from '../store';
import type { BatchKind } from './kind';

type AutomlStep = Extract<StepDefinition, { kind: 'automl' }>;

/**
 * The `automl` kind (FLAML; see lib/automl): one batch job per model family, then one gather batch
 * appended when every family has ended, which ranks them (best model, leaderboard, featurization).
 * Failed families are tolerated; a step where no family trained a model fails naming each one's end.
 */
const automlOf = (def: StepDefinition): AutomlStep => {
  if (def.kind !== 'automl') throw new Error('not an automl step');
  return def;
};

const gatherIndex = (batches: readonly BatchState[]): number =>
  batches.findIndex((b) => b.params?.role === 'gather');

export const automl: BatchKind = {
  slots: (def, doc) => familySlots(automlOf(def), doc.maxConcurrency),
  threshold: () => -1,
  partialOnFailure: false,
  async first(d, spec) {
    const def = automlOf(d.def);
    return {
      batches: planFamilies(def, d.run.doc.maxConcurrency).map((plan) => ({
        status: 'NotStarted' as const,
        attempt: 0,
        params: familyBatchParams(plan),
      })),
      job: (b) => automlJob(def, b.params, spec),
    };
  },
  async more(d, batches, done, base) {
    const def = automlOf(d.def);
    const gatherAt = gatherIndex(batches);
    if (done && gatherAt >= 0) return undefined;
    // Every family has ended: one more job gathers them.
    const families = gatherAt >= 0 ? batches.slice(0, gatherAt) : batches;
    const gathered =
      done || gatherAt >= 0 ? await automlGathered(d.run.doc.runId, d.step, families) : undefined;
    if (gathered && !gathered.results.length) {
      // No family trained a model: bad input (named by the runtime) or every family failed.
      const ends = Object.entries(gathered.failed);
      const bad = ends.find(([, f]) => f.status === 'BadInput');
      return d.fail(
        'exit-code',
        bad
          ? `step "${d.step}": ${bad[1].message}`
          : `step "${d.step}" trained no model; ${ends.map(([fam, f]) => `${fam}: ${f.status}${f.message ? ` (${f.message})` : ''}`).join('; ')}`,
      );
    }
    const list: BatchState[] =
      gatherAt < 0 && done
        ? [...batches, { status: 'NotStarted', attempt: 0, params: { role: 'gather' } }]
        : batches;
    const jobBase = await base();
    return { batches: list, job: (b) => automlJob(def, b.params, jobBase, gathered) };
  },
  async finish(d, batches) {
    const gatherAt = gatherIndex(batches);
    const g = batches[gatherAt]!;
    const row =
      g.status === 'Succeeded'
        ? await d.deps.compute.read(d.run.doc.runId, batchJobId(d.step, gatherAt, g.attempt))
        : undefined;
    if (!row?.result)
      return d.fail(
        (g.failure?.code ?? 'exit-code') as JobFailureCode,
        `step "${d.step}" trained no model: ${g.failure?.message ?? 'the gather job gave no result'}`,
      );
    const outputs: Record<string, StepOutputRef> = {};
    for (const o of row.result.outputs) outputs[o.name] = { type: o.type, hash: o.hash, size: o.size };
    const lb = outputs.leaderboard;
    return {
      outputs,
      ...(lb
        ? {
            leaderboard: parseLeaderboard(
              (await readSmall(lb.hash, 4 * 1024 * 1024)).toString('utf8'),
              MAX_LEADERBOARD_ROWS,
            ),
          }
        : {}),
      metrics: row.result.metrics.slice(-MAX_METRICS_PER_STEP),
    };
  },
};
