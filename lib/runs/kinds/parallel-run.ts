import { gatherOutputs, makeBatches } from '../parallel';
import type { StepDefinition } from '../../pipelines/steps-schema';
import type { BatchKind } from './kind';

/**
 * The `parallelRun` kind (batch scoring): the input is cut into mini-batches and those into contiguous
 * shards (parallel-plan.ts, pure; parallel.ts, I/O), each shard one job that runs its mini-batches in
 * order (lib/compute/runner.ts); the outputs are gathered in shard (so mini-batch) order. Failed
 * mini-batches up to `errorThreshold` are tolerated, and then the step's outputs are partial (no cache
 * entry).
 */
export function parallelRunKeyText(def: Extract<StepDefinition, { kind: 'parallelRun' }>): string {
  // How the input is cut and gathered changes the output, so it is part of the key (and of the diff).
  return `parallelRun(miniBatchSize=${def.miniBatchSize}, outputAction=${def.outputAction}, errorThreshold=${def.errorThreshold})`;
}

export const parallelRun: BatchKind = {
  slots: (_def, doc) => doc.maxConcurrency,
  threshold: (def) => (def.kind === 'parallelRun' ? def.errorThreshold : -1),
  partialOnFailure: true,
  async first(d, _spec, inputs) {
    if (d.def.kind !== 'parallelRun') throw new Error(`step "${d.step}" is not a parallelRun step`);
    const input = inputs.input!;
    return {
      batches: await makeBatches(input.hash, input.type, d.def.miniBatchSize, {
        slots: d.run.doc.maxConcurrency,
        retries: Number(d.def.retries) || 0,
        outputAction: d.def.outputAction,
      }),
    };
  },
  async finish(d, batches) {
    if (d.def.kind !== 'parallelRun') return d.fail('platform', `step "${d.step}" is not a parallelRun step`);
    const outputs = await gatherOutputs(
      d.run.doc.runId,
      d.step,
      batches,
      Object.keys(d.def.outputs ?? {}),
      d.def.outputAction,
    );
    return { outputs };
  },
};
