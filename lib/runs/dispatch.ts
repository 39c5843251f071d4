import type { JobFailureCode, JobSpec } from '../compute/job';
import { stepEnvironmentField } from '../automl/environment';
import { automlKeyText } from '../automl/plan';
import { automlInterpreter, runtimeSnapshot } from '../automl/runtime-code';
import { reuseIfStored } from '../data/cas';
import { recordConsumed } from '../data/lineage';
import { environmentForDispatch } from '../environments/dispatch';
import { stepOutputs } from '../pipelines/graph';
import {
  buildComponents,
  cacheKey,
  diffComponents,
  explainRun,
  type CacheComponents,
  type CacheDecision,
} from './cache-key';
import { addWaiter, claim, readEntry, readLatest, release } from './cache-store';
import { codeFileList } from './code-files';
import { batchKind, continueBatches, startBatches } from './kinds/batches';
import { runTransfer } from './kinds/data-transfer';
import { ranBecause, resolveInputs, type Dispatch, type StepDispatch } from './kinds/kind';
import { parallelRunKeyText } from './kinds/parallel-run';
import { sweepKeyText } from './kinds/sweep';
import type { PlanState, StepState } from './plan';
import { stepTimeoutMs, type RunContext } from './run-context';
import { iso, type RunDeps } from './run-deps';
import { noteLatest } from './single-flight';
import { transferTemplate } from './transfer';
import type { StepRecord } from './store';

/**
 * Dispatching one ready step, whatever its kind: the cache check (Reused when an execution with the same
 * key still has its outputs), the "why did this run" explanation, the single-flight claim (or following
 * the run that holds it), and then the kind's start: a job (command), the copy itself (dataTransfer), or
 * the first batches (kinds/batches.ts). A batch step already running goes on with `continueBatches`.
 */
export async function dispatchStep(
  deps: RunDeps,
  run: RunContext,
  state: PlanState,
  step: string,
  pending: Array<Promise<unknown>>,
): Promise<Dispatch> {
  const { doc, definition } = run;
  const def = definition.steps[step]!;
  const prev = state.steps[step]!;
  const attempt = prev.attempt + 1;
  const now = deps.clock.now();
  // Only the fields a dispatch decides; the merge into the stored record clears the previous attempt's.
  const base: StepRecord = {
    name: step,
    status: 'NotStarted',
    attempts: prev.attempt,
    error: undefined,
    exitCode: undefined,
    outputs: undefined,
    reusedFrom: undefined,
    waitingFor: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    processMs: undefined,
    environment: undefined,
    images: undefined,
  };
  const d: StepDispatch = {
    deps,
    run,
    state,
    step,
    def,
    prev,
    base,
    now,
    pending,
    fail: (code: JobFailureCode, message: string): Dispatch => ({
      kind: 'failed',
      step,
      failure: { code, message },
      record: { ...base, attempts: attempt, error: { code, message }, finishedAt: iso(now) },
    }),
  };
  const batches = batchKind(def);
  if (batches && prev.batches) return continueBatches(d, batches);

  const targetName = def.compute ?? definition.settings?.defaultCompute ?? 'local';
  let target;
  try {
    target = await deps.compute.target(targetName);
  } catch (e) {
    return d.fail('platform', (e as Error).message);
  }
  if (!target)
    return d.fail(
      'platform',
      `step "${step}" uses compute target "${targetName}", which is not configured; add it to SLUICE_COMPUTE_TARGETS`,
    );
  const stepEnv = await environmentForDispatch(
    stepEnvironmentField(def, definition.environment),
    target.pool,
  );
  if (!stepEnv.ok) return d.fail('environment', stepEnv.message);

  const inputs = resolveInputs(doc, state, def, step);
  if (typeof inputs === 'string') return d.fail('missing-input', inputs);
  const outputs = stepOutputs(def);
  // What the step runs, as the key sees it. A dataTransfer's template names the destination; an automl
  // step runs Sluice's runtime (lib/automl/runtime) as its code, its settings are its kind text.
  let automlCode: string | undefined;
  if (def.kind === 'automl')
    try {
      automlCode = await runtimeSnapshot();
    } catch (e) {
      return d.fail(
        'platform',
        `step "${step}": the AutoML runtime could not be stored: ${(e as Error).message}`,
      );
    }
  const command =
    def.kind === 'dataTransfer'
      ? transferTemplate(def.destination)
      : def.kind === 'automl'
        ? `${automlInterpreter()} automl_runtime.py (FLAML)`
        : (def.command ?? '');
  const components = buildComponents({
    kind:
      def.kind === 'parallelRun'
        ? parallelRunKeyText(def)
        : def.kind === 'sweep'
          ? sweepKeyText(def)
          : def.kind === 'automl'
            ? automlKeyText(def, doc.maxConcurrency)
            : def.kind,
    command,
    ...('args' in def && def.args ? { args: def.args } : {}),
    env: def.env ?? {},
    parameters: doc.parameters,
    code: automlCode ?? ('code' in def ? def.code : undefined) ?? null,
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.hash])),
    outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.type])),
    environment: target.environment,
    ...(stepEnv.component ? { packages: stepEnv.component } : {}),
    cacheVersion: deps.settings.cacheVersion,
    fieldParameters: run.fieldParameters[step] ?? [],
  });
  const key = cacheKey(components);
  const canReuse = def.reuse !== false && !doc.forceRerun;

  let decision: CacheDecision | undefined;
  // The explanation is needed whenever the step runs; read it alongside the cache entry, not after it.
  const why = explainWhy(run, step, components, prev);
  why.catch(() => {});
  if (canReuse && prev.attempt === 0) {
    const entry = await readEntry(key);
    if (entry) {
      const missing: string[] = [];
      await Promise.all(
        Object.entries(entry.outputs).map(async ([name, o]) => {
          if (!(await reuseIfStored(o.hash))) missing.push(name);
        }),
      );
      if (missing.length === 0) {
        const from = { runId: entry.runId, step: entry.step };
        return {
          kind: 'reused',
          step,
          outputs: entry.outputs,
          record: {
            ...base,
            status: 'Reused',
            attempts: 0,
            reusedFrom: from,
            outputs: entry.outputs,
            finishedAt: iso(now),
            cache: {
              key,
              decision: 'reused',
              reason: `same cache key as run ${from.runId} step ${from.step}; its outputs still exist`,
              components,
            },
          },
        };
      }
      decision = explainRun({ why: 'outputs-gone', from: { runId: entry.runId, step: entry.step }, missing });
    }
  }
  if (!decision) decision = await why;

  const jobId = `${step}.${attempt}`;
  const spec: JobSpec = {
    jobId,
    runId: doc.runId,
    stepName: step,
    attempt,
    pool: target.pool,
    target: target.name,
    ...(def.resources ? { resources: def.resources } : {}),
    kind: def.kind,
    command: components.command,
    ...(components.args ? { args: components.args } : {}),
    env: components.env,
    ...(stepEnv.spec ? { environment: stepEnv.spec, parameters: components.parameters } : {}),
    ...(stepEnv.component?.named ? { environmentName: stepEnv.component.named } : {}),
    ...(components.code ? { code: components.code } : {}),
    inputs: Object.entries(inputs).map(([name, v]) => ({ name, hash: v.hash, type: v.type })),
    outputs: Object.entries(outputs).map(([name, v]) => ({ name, type: v.type })),
    timeoutMs: stepTimeoutMs(def, deps.settings),
    notify: { instanceId: doc.runId, eventName: `job:${jobId}` },
    createdAt: iso(now),
  };
  // A dataTransfer takes no claim: registering equal content twice is harmless.
  if (def.kind === 'dataTransfer')
    return runTransfer(d, { key, components, decision, inputs, spec, claimed: false });

  if (canReuse) {
    const c = await claim(
      { key, runId: doc.runId, step, jobId, expiresAt: now + spec.timeoutMs + deps.settings.lostAfterMs * 2 },
      now,
    );
    if (!c.taken) {
      const follow = { runId: c.holder.runId, jobId: c.holder.jobId, step: c.holder.step };
      // Told of the holder's result by an event (tellWaiters); the poll stays as the safety net for a
      // holder that ends between its claim read here and this registration.
      pending.push(addWaiter(key, doc.runId, step).catch((e) => deps.log(`waiter ${step}: ${e}`)));
      return {
        kind: 'queued',
        step,
        state: { status: 'Queued', attempt: prev.attempt, follow },
        record: {
          ...base,
          status: 'Queued',
          waitingFor: { runId: follow.runId, step: follow.step },
          queuedAt: iso(now),
          cache: {
            key,
            decision: 'run',
            reason: `run ${follow.runId} is computing the same key (step ${follow.step}); waiting for its result`,
            components,
          },
        },
      };
    }
  }

  let started: StepState['batches'];
  try {
    if (batches) started = await startBatches(d, batches, spec, inputs);
    else await deps.compute.submit(spec);
  } catch (e) {
    if (canReuse) await release(key, doc.runId, step).catch(() => {});
    return d.fail('platform', `could not enqueue the job for step "${step}": ${(e as Error).message}`);
  }
  // Bookkeeping off the critical path: awaited by the advance together with the run's write.
  pending.push(
    noteLatest(deps, doc, step, key, components, iso(now)),
    ...Object.entries(inputs).map(([name, v]) =>
      recordConsumed(v.hash, { runId: doc.runId, step, input: name }).catch(() => {}),
    ),
  );
  const slots = batches?.slots(def, doc);
  return {
    kind: 'queued',
    step,
    state: started
      ? { status: 'Running', attempt, pool: target.pool, batches: started, batchSlots: slots }
      : { status: 'Queued', attempt, jobId, pool: target.pool },
    record: {
      ...base,
      status: started ? 'Running' : 'Queued',
      attempts: attempt,
      ...(started ? { startedAt: iso(now) } : { jobId }),
      pool: target.pool,
      queuedAt: iso(now),
      cache: ranBecause(key, decision, components),
    },
  };
}

async function explainWhy(
  run: RunContext,
  step: string,
  components: CacheComponents,
  prev: StepState,
): Promise<CacheDecision> {
  const { doc, definition } = run;
  if (prev.attempt > 0 && prev.failure)
    return explainRun({ why: 'retry', attempt: prev.attempt + 1, failure: prev.failure.message });
  if (doc.forceRerun) return explainRun({ why: 'forced' });
  if (definition.steps[step]?.reuse === false) return explainRun({ why: 'reuse-disabled' });
  const latest = await readLatest(doc.pipeline, step).catch(() => undefined);
  if (!latest) return explainRun({ why: 'no-earlier' });
  let codeFiles;
  if (latest.components.code !== components.code && latest.components.code && components.code)
    codeFiles = await codeFileList(latest.components.code, components.code).catch(() => undefined);
  return explainRun({
    why: 'changed',
    changes: diffComponents(latest.components, components, codeFiles),
    from: { runId: latest.runId },
  });
}
