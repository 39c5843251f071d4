import type { JobFailureCode, JobSpec } from '../../compute/job';
import { recordProduced } from '../../data/lineage';
import { stepEnvironmentField } from '../../automl/environment';
import { environmentForDispatch } from '../../environments/dispatch';
import { stepOutputs } from '../../pipelines/graph';
import type { StepDefinition } from '../../pipelines/steps-schema';
import { release, writeEntry } from '../cache-store';
import { enqueueBatches } from '../parallel';
import { failedMiniBatches, miniBatchVerdict, type BatchState } from '../parallel-plan';
import { stepTimeoutMs } from '../run-context';
import { iso } from '../run-deps';
import { giveUpClaim, shared, tellWaiters } from '../single-flight';
import { batchCounts, mergeBatchErrors } from '../step-record';
import type { StepRecord } from '../store';
import { registerOutputDatasets } from '../transfer';
import { automl } from './automl';
import {
  isDispatch,
  resolveInputs,
  type BatchJobBase,
  type BatchKind,
  type Dispatch,
  type StepDispatch,
} from './kind';
import { parallelRun } from './parallel-run';
import { sweep } from './sweep';

/**
 * The machinery every batch kind shares: the first batches at dispatch, the next ones (or a failed
 * batch's retry) whenever a batch ends, and, when every batch is settled, the verdict against the
 * kind's threshold, the outputs, the cache entry and the single-flight claim. A new batch kind is one
 * `BatchKind` module added to `BATCH_KINDS`.
 */
export const BATCH_KINDS: Partial<Record<StepDefinition['kind'], BatchKind>> = {
  parallelRun,
  sweep,
  automl,
};

export function batchKind(def: StepDefinition): BatchKind | undefined {
  return BATCH_KINDS[def.kind];
}

/** The jobs of a batch step cannot be made: the step fails with this code. */
class JobBaseError extends Error {
  constructor(
    readonly code: 'missing-input' | 'environment',
    message: string,
  ) {
    super(message);
  }
}

/** The first batches of a batch step (after its cache check and claim), started up to its slots. */
export async function startBatches(
  d: StepDispatch,
  kind: BatchKind,
  spec: JobSpec,
  inputs: Parameters<BatchKind['first']>[2],
): Promise<BatchState[]> {
  const first = await kind.first(d, spec, inputs);
  return enqueueBatches(
    spec,
    first.batches,
    kind.slots(d.def, d.run.doc),
    d.now,
    ...(first.job ? [first.job] : []),
  );
}

/**
 * A batch step after one of its batches ended: start the next batches (or a failed batch's retry),
 * or, when every batch is settled, finish it (success) or fail it past its threshold.
 */
export async function continueBatches(d: StepDispatch, kind: BatchKind): Promise<Dispatch> {
  const { deps, run, step, def, prev, base, pending } = d;
  const { doc, definition } = run;
  const batches = prev.batches!;
  const rec = doc.steps[step];
  const key = rec?.cache?.key;
  const claimed = def.reuse !== false && !doc.forceRerun;
  // The step's single-flight claim was taken under the job id `<step>.<attempt>` (dispatch).
  const claimJobId = `${step}.${prev.attempt}`;
  const giveUp = (): void => {
    if (claimed && key) pending.push(giveUpClaim(deps, key, doc.runId, step, claimJobId));
  };
  const keep = {
    status: rec?.status ?? 'Running',
    attempts: prev.attempt,
    startedAt: rec?.startedAt,
  } as const;
  // A shard reports its mini-batches' failed attempts only when it ends: the final record keeps them.
  const errors = mergeBatchErrors(rec?.batchErrors, batches);
  const withErrors = errors.length ? { batchErrors: errors } : {};
  const failed = (x: Dispatch): Dispatch => {
    giveUp();
    return {
      ...x,
      record: { ...x.record, ...withErrors, attempts: prev.attempt, startedAt: rec?.startedAt },
    };
  };
  const threshold = kind.threshold(def);
  // In mini-batch units: a parallelRun shard stands for its mini-batches (for other kinds, one batch is one).
  const verdict = miniBatchVerdict(batches, threshold);

  let made: Promise<BatchJobBase> | undefined;
  const jobBase = (): Promise<BatchJobBase> => (made ??= makeJobBase());
  const makeJobBase = async (): Promise<BatchJobBase> => {
    const target = (await deps.compute.target(
      def.compute ?? definition.settings?.defaultCompute ?? 'local',
    ))!;
    // Every job gets the step's inputs: a sweep's whole, a parallelRun's side inputs (its split `input`
    // is replaced per batch).
    const resolved = resolveInputs(doc, d.state, def, step);
    if (typeof resolved === 'string') throw new JobBaseError('missing-input', resolved);
    // Later waves, retries and the gather run in the same environment as the first jobs.
    const stepEnv = await environmentForDispatch(
      stepEnvironmentField(def, definition.environment),
      target.pool,
    );
    if (!stepEnv.ok) throw new JobBaseError('environment', stepEnv.message);
    const c = rec!.cache!.components;
    return {
      runId: doc.runId,
      stepName: step,
      pool: target.pool,
      target: target.name,
      ...(def.resources ? { resources: def.resources } : {}),
      kind: def.kind,
      command: c.command,
      ...(c.args ? { args: c.args } : {}),
      env: c.env,
      ...(c.code ? { code: c.code } : {}),
      ...(stepEnv.spec ? { environment: stepEnv.spec, parameters: c.parameters } : {}),
      ...(stepEnv.component?.named ? { environmentName: stepEnv.component.named } : {}),
      inputs: Object.entries(resolved).map(([name, v]) => ({ name, hash: v.hash, type: v.type })),
      outputs: Object.entries(stepOutputs(def)).map(([name, v]) => ({ name, type: v.type })),
      timeoutMs: stepTimeoutMs(def, deps.settings),
      createdAt: iso(deps.clock.now()),
    };
  };

  let more;
  try {
    more = kind.more
      ? await kind.more(d, batches, verdict.done, jobBase)
      : verdict.done
        ? undefined
        : { batches };
  } catch (e) {
    if (e instanceof JobBaseError) return d.fail(e.code, e.message);
    throw e;
  }
  if (isDispatch(more)) return failed(more);
  if (more) {
    let b: BatchJobBase;
    try {
      b = await jobBase();
    } catch (e) {
      if (e instanceof JobBaseError) return d.fail(e.code, e.message);
      throw e;
    }
    const slots = kind.slots(def, doc);
    const next = await enqueueBatches(
      b,
      more.batches,
      slots,
      deps.clock.now(),
      ...(more.job ? [more.job] : []),
    );
    return {
      kind: 'queued',
      step,
      state: { ...prev, status: 'Running', batches: next, batchSlots: slots },
      record: { ...base, ...keep, status: 'Running' },
    };
  }
  // A kind that has nothing more to start while batches are still running waits for them.
  if (!verdict.done)
    return { kind: 'queued', step, state: prev, record: { ...base, ...keep, status: 'Running' } };
  if (!verdict.ok) {
    const first = verdict.first;
    return failed(
      d.fail(
        first.code as JobFailureCode,
        `${verdict.failed.length} of ${verdict.total} mini-batches of step "${step}" failed (errorThreshold ${threshold}); ` +
          `batch ${verdict.failed[0]}: ${first.message}`,
      ),
    );
  }
  let done;
  try {
    done = await kind.finish(d, batches);
  } catch (e) {
    return failed(
      d.fail(
        'platform',
        `gathering the mini-batch outputs of step "${step}" failed: ${(e as Error).message}`,
      ),
    );
  }
  if (isDispatch(done)) return failed(done);
  const { outputs } = done;
  const finishedAt = iso(deps.clock.now());
  for (const [name, o] of Object.entries(outputs))
    pending.push(recordProduced(o.hash, { runId: doc.runId, step, output: name }).catch(() => {}));
  pending.push(registerOutputDatasets(def, outputs, { runId: doc.runId, step }).catch(() => {}));
  // Batches tolerated as failed leave their rows out: such outputs are not reused, so a later run tries
  // those batches again.
  const partial = kind.partialOnFailure && failedMiniBatches(batches).length > 0;
  if (partial) giveUp();
  if (def.reuse !== false && key && !partial)
    pending.push(
      writeEntry({
        key,
        runId: doc.runId,
        step,
        pipeline: doc.pipeline,
        outputs,
        components: rec!.cache!.components,
        createdAt: finishedAt,
      })
        .then(() => (claimed ? release(key, doc.runId, step) : undefined))
        .then(() =>
          claimed
            ? tellWaiters(
                deps,
                key,
                doc.runId,
                claimJobId,
                shared(deps, claimJobId, outputs, done.metrics ?? []),
              )
            : undefined,
        )
        .catch((e) => deps.log(`cache ${step}: ${e}`)),
    );
  const record: StepRecord = {
    ...base,
    ...keep,
    status: 'Completed',
    outputs,
    finishedAt,
    batches: batchCounts(batches),
    ...withErrors,
    ...(done.bestTrial ? { bestTrial: done.bestTrial } : {}),
    // sweep: the winning trial's; automl: the gather's (best score, each family job's start-up).
    ...(done.metrics ? { metrics: done.metrics } : {}),
    ...(done.leaderboard ? { leaderboard: done.leaderboard } : {}),
  };
  return { kind: 'done', step, outputs, record };
}
