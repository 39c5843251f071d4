import type { JobFailureCode } from '../../compute/job';
import { sweepLeaderboard } from '../../automl/leaderboard';
import { sweepEarlyStops } from '../../automl/step-io';
import type { StepDefinition } from '../../pipelines/steps-schema';
import { batchJobId } from '../parallel-plan';
import { MAX_LEADERBOARD_ROWS, MAX_METRICS_PER_STEP } from '../store';
import { bestTrial, substituteTrial, sweepTrials } from '../sweep-plan';
import type { BatchJob, BatchKind } from './kind';

type SweepStep = Extract<StepDefinition, { kind: 'sweep' }>;

/**
 * The `sweep` kind (Azure ML's HyperDriveStep): one job per trial of the user's command, planned purely
 * (sweep-plan.ts); running trials judged by the early-termination policy whenever one ends; the best
 * trial's outputs and metrics become the step's, and every trial is on the leaderboard.
 */
export function sweepKeyText(def: SweepStep): string {
  return `sweep(${JSON.stringify({ task: def.task ?? null, metric: def.metric, goal: def.goal, sampler: def.sampler, seed: def.seed, maxTotalTrials: def.maxTotalTrials ?? null, maxConcurrentTrials: def.maxConcurrentTrials ?? null, earlyTermination: def.earlyTermination ?? null, searchSpace: def.searchSpace })})`;
}

/**
 * One trial's job: the command and env with `${{trial.X}}` substituted, and the sweep's `task` as
 * `SLUICE_AUTOML_TASK` (a trial script may pick its model family or metric by it; `task` is in the key).
 */
function trialJob(
  base: { command: string; args?: string[]; env?: Record<string, string> },
  task: string | undefined,
): BatchJob {
  return (b) => ({
    command: substituteTrial(base.command, b.params ?? {}, true),
    ...(base.args ? { args: base.args.map((a) => substituteTrial(a, b.params ?? {}, false)) } : {}),
    env: {
      ...Object.fromEntries(
        Object.entries(base.env ?? {}).map(([k, v]) => [k, substituteTrial(v, b.params ?? {}, false)]),
      ),
      ...(task !== undefined ? { SLUICE_AUTOML_TASK: task } : {}),
    },
  });
}

const sweepOf = (def: StepDefinition): SweepStep => {
  if (def.kind !== 'sweep') throw new Error('not a sweep step');
  return def;
};

export const sweep: BatchKind = {
  slots: (def, doc) => (def.kind === 'sweep' ? def.maxConcurrentTrials : undefined) ?? doc.maxConcurrency,
  // A sweep tolerates failed trials: the best of the others wins (finishing fails if none reported).
  threshold: () => -1,
  partialOnFailure: false,
  async first(d, spec) {
    const def = sweepOf(d.def);
    return {
      batches: sweepTrials(def.searchSpace, def.sampler, def.maxTotalTrials, def.seed).map((params) => ({
        status: 'NotStarted' as const,
        attempt: 0,
        params,
      })),
      job: trialJob(spec, def.task),
    };
  },
  async more(d, batches, done, base) {
    if (done) return undefined;
    const def = sweepOf(d.def);
    // Early termination: judged whenever one of its trials ends (lib/runs/early-termination.ts).
    if (def.earlyTermination) {
      const stop = await sweepEarlyStops(d.run.doc.runId, d.step, def, batches).catch(() => []);
      for (const i of stop)
        d.pending.push(
          d.deps.compute
            .cancel(d.run.doc.runId, batchJobId(d.step, i, batches[i]!.attempt))
            .catch(() => undefined),
        );
    }
    return { batches, job: trialJob(await base(), def.task) };
  },
  async finish(d, batches) {
    const def = sweepOf(d.def);
    const { runId } = d.run.doc;
    const rows = await Promise.all(
      batches.map((b, i) =>
        b.status === 'Succeeded' ? d.deps.compute.read(runId, batchJobId(d.step, i, b.attempt)) : undefined,
      ),
    );
    const best = bestTrial(
      rows.map((r) => r?.result?.metrics),
      def.metric,
      def.goal,
    );
    const leaderboard = sweepLeaderboard(
      batches.map((b, i) => ({
        params: b.params,
        status:
          b.status === 'Succeeded' ? 'Completed' : b.failure?.code === 'canceled' ? 'Canceled' : 'Failed',
        metrics: rows[i]?.result?.metrics,
        ...(rows[i]?.result?.processMs !== undefined
          ? { durationS: rows[i]!.result!.processMs! / 1000 }
          : {}),
        ...(b.failure ? { error: b.failure.message } : {}),
      })),
      def.metric,
      def.goal,
      MAX_LEADERBOARD_ROWS,
    );
    if (!best) {
      const ok = batches.filter((b) => b.status === 'Succeeded').length;
      return d.fail(
        ok ? 'missing-output' : ((batches[0]?.failure?.code ?? 'exit-code') as JobFailureCode),
        ok
          ? `none of the ${ok} succeeded trials of step "${d.step}" reported metric "${def.metric}"; write {"name":"${def.metric}","value":…} lines to $SLUICE_METRICS`
          : `all ${batches.length} trials of step "${d.step}" failed; trial 0: ${batches[0]?.failure?.message ?? 'no message'}`,
      );
    }
    const row = rows[best.index]!.result!;
    const outputs: Record<string, { type: 'file' | 'directory'; hash: string; size?: number }> = {};
    for (const o of row.outputs) outputs[o.name] = { type: o.type, hash: o.hash, size: o.size };
    return {
      outputs,
      leaderboard,
      bestTrial: {
        index: best.index,
        parameters: batches[best.index]!.params ?? {},
        metric: def.metric,
        value: best.value,
      },
      metrics: row.metrics.slice(-MAX_METRICS_PER_STEP),
    };
  },
};
