import type { JobFailureCode } from '../../compute/job';
import { DataError } from '../../data/errors';
import { recordConsumed, recordProduced } from '../../data/lineage';
import { writeEntry } from '../cache-store';
import type { StepOutputRef } from '../plan';
import { iso } from '../run-deps';
import { noteLatest } from '../single-flight';
import { transferToDataset } from '../transfer';
import { ranBecause, type Dispatch, type Prepared, type StepDispatch } from './kind';

/**
 * The `dataTransfer` kind runs here, in the activity: the source is already in the content store, so
 * the copy is the same hash registered as the next version of the destination dataset (no bytes move,
 * no agent). Its cache entry, latest-execution record and lineage are written like a job's.
 */
export async function runTransfer(d: StepDispatch, p: Prepared): Promise<Dispatch> {
  const { deps, run, step, def, base, pending } = d;
  if (def.kind !== 'dataTransfer') return d.fail('platform', `step "${step}" is not a dataTransfer step`);
  const { doc } = run;
  const attempt = d.prev.attempt + 1;
  const source = p.inputs.source!;
  const startedAt = iso(deps.clock.now());
  let out: StepOutputRef;
  try {
    out = await transferToDataset(def.destination, source, { runId: doc.runId, step });
  } catch (e) {
    const message = `step "${step}" could not copy its source to dataset "${def.destination}": ${(e as Error).message}`;
    const code: JobFailureCode =
      e instanceof DataError && e.code === 'artifact-not-found' ? 'missing-input' : 'platform';
    return {
      kind: 'failed',
      step,
      failure: { code, message },
      record: {
        ...base,
        attempts: attempt,
        error: { code, message },
        startedAt,
        finishedAt: iso(deps.clock.now()),
      },
    };
  }
  const finishedAt = iso(deps.clock.now());
  const outputs = { data: out };
  pending.push(
    noteLatest(deps, doc, step, p.key, p.components, startedAt),
    recordConsumed(source.hash, { runId: doc.runId, step, input: 'source' }).catch(() => {}),
    recordProduced(out.hash, { runId: doc.runId, step, output: 'data' }).catch(() => {}),
  );
  if (def.reuse !== false)
    pending.push(
      writeEntry({
        key: p.key,
        runId: doc.runId,
        step,
        pipeline: doc.pipeline,
        outputs,
        components: p.components,
        createdAt: finishedAt,
      }).catch((e) => deps.log(`cache ${step}: ${e}`)),
    );
  return {
    kind: 'done',
    step,
    outputs,
    record: {
      ...base,
      status: 'Completed',
      attempts: attempt,
      outputs,
      startedAt,
      finishedAt,
      cache: ranBecause(p.key, p.decision, p.components),
    },
  };
}
