import { getClients } from '../azure/clients';
import { loadSettings } from '../config/settings';
import type { JobFailureCode, JobResult, JobSpec } from '../compute/job';
import { cancelJob as requestCancel, checkJob, submitJob } from '../compute/dispatch';
import { readJob } from '../compute/jobs';
import { environmentForDispatch } from '../environments/dispatch';
import { getComputeTarget } from '../compute/targets-store';
import { reuseIfStored } from '../data/cas';
import { DataError } from '../data/errors';
import { registerOutputDatasets, transferToDataset, transferTemplate } from './transfer';
import { enqueueBatches, gatherOutputs, makeBatches } from './parallel';
import {
  batchJobId,
  failedMiniBatches,
  miniBatchCounts,
  miniBatchErrors,
  miniBatchVerdict,
  stepVerdict,
  type BatchState,
  type FailedMiniBatches,
  type MiniBatchVerdict,
  type StepVerdict,
} from './parallel-plan';
import { bestTrial, substituteTrial, sweepTrials } from './sweep-plan';
import { automlJob, familyBatchParams } from '../automl/jobs';
import { automlGathered, sweepEarlyStops } from '../automl/step-io';
import { automlKeyText, familySlots, planFamilies } from '../automl/plan';
import { automlInterpreter, runtimeSnapshot } from '../automl/runtime-code';
import { parseLeaderboard, sweepLeaderboard } from '../automl/leaderboard';
import { readSmall } from '../data/cas';
import { recordConsumed, recordProduced } from '../data/lineage';
import { getClock } from '../host/clock';
import { parseBinding, stepInputBindings, stepOutputs } from '../pipelines/graph';
import { parseDuration, type PipelineDefinition, type StepDefinition } from '../pipelines/schema';
import { getPipelineVersion } from '../pipelines/store';
import { parameterFieldUses, resolveNumericFields } from '../pipelines/numeric-fields';
import {
  buildComponents,
  cacheKey,
  diffComponents,
  explainRun,
  type CacheComponents,
  type CacheDecision,
} from './cache-key';
import {
  addWaiter,
  claim,
  readEntry,
  readLatest,
  release,
  releaseRunClaims,
  removeWaiter,
  takeWaiters,
  writeEntry,
  writeLatest,
} from './cache-store';
import { codeFileList } from './code-files';
import {
  followEventName,
  type AdvanceInput,
  type AdvanceOutput,
  type EndedStep,
  type PollInput,
  type PollResult,
  type StepObservation,
} from './activity-contract';

export type {
  AdvanceInput,
  AdvanceOutput,
  OrchestrationInput,
  PollInput,
  PollResult,
  StepObservation,
} from './activity-contract';
import {
  applyFailure,
  buildGraph,
  applyDelta,
  applySuccess,
  expandState,
  isFinished,
  readySteps,
  runStatus,
  stateDelta,
  type PlanState,
  type StepGraph,
  type StepOutputRef,
  type StepState,
} from './plan';
import {
  MAX_BATCH_ERRORS,
  MAX_LEADERBOARD_ROWS,
  MAX_METRICS_PER_STEP,
  readRun,
  readStepRecord,
  updateRun,
  type RunDoc,
  type StepRecord,
} from './store';

/**
 * The I/O side of a run: what the orchestration's activities do. `advance` persists what happened since
 * the last call, dispatches the ready steps (cache check, single-flight claim, enqueue) and cascades
 * through steps that turn out Reused, so an all-Reused run takes one activity, not one per step.
 * `poll` reads job rows when an event may have been lost. Both are safe to run twice (activities are
 * at-least-once): job ids are deterministic and every write is an upsert or an etag-guarded replace.
 */

/** Step timeout when the definition sets none: 6 h. Setting `SLUICE_STEP_TIMEOUT_DEFAULT` (a duration). */
export function defaultStepTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  return parseDuration(env.SLUICE_STEP_TIMEOUT_DEFAULT ?? '') ?? 6 * 3600_000;
}

/** A step's wall-clock limit per attempt (per mini-batch or trial): its `timeout`, or the default. */
function stepTimeoutMs(def: StepDefinition): number {
  return (def.timeout ? parseDuration(def.timeout) : undefined) ?? defaultStepTimeoutMs();
}

/** A running job with no heartbeat for this long is failed as `lost`. Setting `SLUICE_LOST_AFTER_MS`. @default 30000 */
export function lostAfterMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.SLUICE_LOST_AFTER_MS);
  return Number.isFinite(n) && n > 0 ? n : 30_000;
}

interface RunContext {
  doc: RunDoc;
  definition: PipelineDefinition;
  graph: StepGraph;
  /** Per step, the parameters its numeric fields take (resolved in `definition`; part of the key). */
  fieldParameters: Record<string, string[]>;
}

// A small per-process cache: definitions are immutable, and this process is the run's only writer.
const contexts = new Map<string, RunContext>();

async function context(runId: string): Promise<RunContext> {
  const hit = contexts.get(runId);
  if (hit) return hit;
  const doc = await readRun(runId);
  if (!doc) throw new Error(`run ${runId} has no document`);
  const v = await getPipelineVersion(doc.pipeline, doc.version);
  // Numeric fields given as ${{parameters.X}} take this run's values (checked when the run started).
  const definition = resolveNumericFields(v.definition, doc.parameters).definition;
  const fieldParameters = Object.fromEntries(
    Object.entries(v.definition.steps).map(([n, st]) => [n, parameterFieldUses(st).map((u) => u.parameter)]),
  );
  const ctx = { doc, definition, graph: buildGraph(definition), fieldParameters };
  if (contexts.size > 200) contexts.delete(contexts.keys().next().value!);
  contexts.set(runId, ctx);
  return ctx;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The plan each running run's last advance returned, by run: the next advance gets only what changed
 * since (its input stays small however large the run). A miss (another process, a restart, eviction)
 * costs one more call carrying the whole plan.
 */
const plans = new Map<string, { seq: number; state: PlanState }>();
function remember(runId: string, seq: number, state: PlanState): void {
  plans.delete(runId);
  if (plans.size >= 500) plans.delete(plans.keys().next().value!);
  plans.set(runId, { seq, state });
}

/** Raises a durable event on another run's orchestration (the activity's durable client binding). */
export type RaiseEvent = (instanceId: string, eventName: string, data: unknown) => Promise<void>;

export async function advance(
  input: AdvanceInput,
  log: (m: string) => void = () => {},
  raise?: RaiseEvent,
): Promise<AdvanceOutput> {
  const ctx = await context(input.runId);
  const { doc, definition } = ctx;
  // The plan: sent whole, or the one this process returned last time plus what changed since.
  const known = plans.get(input.runId);
  if (!input.state && known?.seq !== input.seq) return { needState: true };
  const initial = input.state ? expandState(ctx.graph, input.state) : applyDelta(known!.state, input.changes);
  const now = getClock().now();
  const patches: Array<(d: RunDoc) => void> = [];
  const sideEffects: Array<Promise<unknown>> = [];

  // 1. Cancel jobs the orchestrator decided to stop.
  for (const c of input.cancel)
    sideEffects.push(requestCancel(input.runId, c.jobId).catch((e) => log(`cancel ${c.jobId}: ${e}`)));

  // 2. Persist observations: outputs, metrics, cache entries for fresh successes. Their writes start just
  // after the next jobs' dispatch has sent its first request: a chain's next step waits for that one.
  const later: Array<() => Promise<unknown>> = [];
  for (const o of input.observations) {
    const s = initial.steps[o.step] ?? { status: 'NotStarted' as const, attempt: 0 };
    patches.push((d) => recordObservation(d, o, s));
    const rec = doc.steps[o.step];
    // Only a step that could reuse took a single-flight claim (dispatchStep): others have none to release,
    // and looking for it would cost a Cosmos read per step.
    const claimed = definition.steps[o.step]?.reuse !== false && !doc.forceRerun;
    if (o.result.state === 'succeeded' && !o.followed) {
      const outputs = outputsOf(o.result);
      for (const [name, out] of Object.entries(outputs))
        later.push(() =>
          recordProduced(out.hash, { runId: input.runId, step: o.step, output: name }).catch(() => {}),
        );
      later.push(() =>
        registerOutputDatasets(definition.steps[o.step], outputs, { runId: input.runId, step: o.step }).catch(
          (e) => log(`registering the outputs of ${o.step} as datasets: ${(e as Error).message}`),
        ),
      );
      const cache = rec?.cache;
      if (cache?.key && definition.steps[o.step]?.reuse !== false)
        later.push(() =>
          writeEntry({
            key: cache.key,
            runId: input.runId,
            step: o.step,
            pipeline: doc.pipeline,
            outputs,
            components: cache.components,
            createdAt: iso(now),
          })
            .then(() => (claimed ? release(cache.key, input.runId, o.step) : undefined))
            .then(() =>
              claimed ? tellWaiters(cache.key, input.runId, o.jobId, o.result, raise, log) : undefined,
            ),
        );
    } else if (claimed && rec?.cache?.key && !o.followed && o.result.state !== 'succeeded') {
      const key = rec.cache.key;
      later.push(() =>
        release(key, input.runId, o.step)
          .catch(() => {})
          .then(() => tellWaiters(key, input.runId, o.jobId, o.result, raise, log)),
      );
    }
  }
  later.push(...releaseEnded(ctx, input.ended ?? [], initial, {}, raise, log));
  const startLater = (): void => {
    for (const f of later.splice(0)) sideEffects.push(f());
  };

  // 3. Dispatch ready steps, cascading through Reused ones.
  let state = initial;
  let ready = input.dispatch;
  const dispatchedRecords: Record<string, StepRecord> = {};
  let guard = 0;
  while (ready.length && guard++ < 10_000) {
    const dispatching = ready.map((step) => dispatchStep(ctx, state, step, log, sideEffects, raise));
    startLater();
    const decisions = await Promise.all(dispatching);
    for (const d of decisions) {
      dispatchedRecords[d.step] = d.record;
      if (d.kind === 'reused') {
        state = applySuccess(state, d.step, 'Reused', d.outputs);
        sideEffects.push(
          registerOutputDatasets(definition.steps[d.step], d.outputs, {
            runId: input.runId,
            step: d.step,
          }).catch((e) => log(`registering the outputs of ${d.step} as datasets: ${(e as Error).message}`)),
        );
      } else if (d.kind === 'done') state = applySuccess(state, d.step, 'Completed', d.outputs);
      else if (d.kind === 'queued') state = withStep(state, d.step, d.state);
      else {
        const eff = applyFailure(
          ctx.graph,
          withStep(state, d.step, {
            ...state.steps[d.step]!,
            status: 'Queued',
            attempt: state.steps[d.step]!.attempt + 1,
          }),
          d.step,
          d.failure,
          {
            retries: 0,
            continueOnStepFailure: doc.continueOnStepFailure,
            now: input.now,
          },
        );
        for (const c of eff.cancel) {
          const jobId = state.steps[c]?.jobId;
          if (jobId) sideEffects.push(requestCancel(input.runId, jobId).catch(() => {}));
        }
        const ended = eff.ended.map((step): EndedStep => ({
          step,
          role: state.steps[step]?.follow ? 'follower' : 'holder',
        }));
        for (const f of releaseEnded(ctx, ended, state, dispatchedRecords, raise, log)) sideEffects.push(f());
        state = eff.state;
      }
    }
    ready = readySteps(ctx.graph, state, doc.maxConcurrency, input.now);
  }

  startLater();

  // 4. One write for everything this call changed. A run reads as finished only once its side effects
  // (datasets registered from outputs, lineage, cache entries) are in place: whoever waits for the run
  // may read them at once.
  const finished = isFinished(state);
  const status = runStatus(state);
  if (finished) await Promise.allSettled(sideEffects);
  const out = stateDelta(initial, state);
  // The steps whose records this call may change: only their step pages are written.
  const touched = input.state
    ? new Set([...Object.keys(state.steps), ...Object.keys(doc.steps)])
    : new Set([
        ...Object.keys(input.changes.steps),
        ...Object.keys(input.changes.batches ?? {}),
        ...Object.keys(out.steps),
        ...Object.keys(out.batches ?? {}),
        ...input.observations.map((o) => o.step),
        ...Object.keys(dispatchedRecords),
      ]);
  const updated = await updateRun(
    input.runId,
    (d) => {
      if (input.starting && !d.startedAt) d.startedAt = iso(now);
      for (const p of patches) p(d);
      for (const [name, rec] of Object.entries(dispatchedRecords)) {
        const merged = { ...d.steps[name], ...rec } as Record<string, unknown>;
        for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
        d.steps[name] = merged as unknown as StepRecord;
      }
      for (const name of touched) {
        const s = state.steps[name];
        if (s) syncStep(d, name, s, now);
      }
      d.status = finished ? status : d.status === 'Queued' || input.starting ? 'Running' : d.status;
      if (finished && !d.finishedAt) d.finishedAt = iso(getClock().now());
    },
    ctx.doc,
    touched,
  );
  ctx.doc = updated;
  await Promise.all(sideEffects);
  if (finished) {
    contexts.delete(input.runId);
    plans.delete(input.runId);
    await replyIfAsked(updated, log);
  } else remember(input.runId, input.seq + 1, state);
  return { delta: out, finished };
}

/**
 * Steps that ended without a result of their own (canceled with the run, or halted by another step's
 * failure) give up what they held at once: a holder its single-flight claim, whose followers are told
 * there is nothing to share; a follower its waiter registration.
 */
function releaseEnded(
  ctx: RunContext,
  ended: readonly EndedStep[],
  state: PlanState,
  /** Records this advance dispatched and has not written yet. */
  fresh: Record<string, StepRecord>,
  raise: RaiseEvent | undefined,
  log: (m: string) => void,
): Array<() => Promise<unknown>> {
  const { doc, definition } = ctx;
  const out: Array<() => Promise<unknown>> = [];
  for (const e of ended) {
    const key = (fresh[e.step] ?? doc.steps[e.step])?.cache?.key;
    if (!key || definition.steps[e.step]?.reuse === false || doc.forceRerun) continue;
    if (e.role === 'follower')
      out.push(() => removeWaiter(key, doc.runId, e.step).catch((err) => log(`waiter ${e.step}: ${err}`)));
    else {
      const jobId = `${e.step}.${state.steps[e.step]?.attempt ?? 0}`;
      out.push(() =>
        release(key, doc.runId, e.step)
          .catch((err) => log(`claim ${e.step}: ${err}`))
          .then(() => tellWaiters(key, doc.runId, jobId, notShared(jobId), raise, log)),
      );
    }
  }
  return out;
}

function withStep(state: PlanState, step: string, s: StepState): PlanState {
  return { ...state, steps: { ...state.steps, [step]: s } };
}

function outputsOf(r: JobResult): Record<string, StepOutputRef> {
  const out: Record<string, StepOutputRef> = {};
  for (const o of r.outputs ?? []) out[o.name] = { type: o.type, hash: o.hash, size: o.size };
  return out;
}

function recordObservation(d: RunDoc, o: StepObservation, s: StepState | undefined): void {
  const rec: StepRecord = d.steps[o.step] ?? { name: o.step, status: 'NotStarted', attempts: 0 };
  const r = o.result;
  if (o.followed) {
    rec.reusedFrom = o.followed;
    delete rec.waitingFor;
    if (rec.cache)
      rec.cache = {
        ...rec.cache,
        decision: 'reused',
        reason: `computed once by run ${o.followed.runId} (single-flight), reused here`,
      };
  }
  if (r.startedAt) rec.startedAt = r.startedAt;
  rec.finishedAt = r.finishedAt;
  if (r.exitCode !== undefined) rec.exitCode = r.exitCode;
  if (r.processMs !== undefined) rec.processMs = r.processMs;
  if (r.environment) rec.environment = r.environment;
  if (r.images) rec.images = r.images;
  if (r.state === 'succeeded') {
    rec.outputs = outputsOf(r);
    delete rec.error;
  } else if (r.failure) {
    rec.error = { code: r.failure.code, message: r.failure.message };
    if (s && s.status === 'NotStarted')
      (rec.attemptErrors ??= []).push({
        attempt: rec.attempts,
        code: r.failure.code,
        message: r.failure.message,
      });
  }
  if (r.metrics?.length) rec.metrics = r.metrics.slice(-MAX_METRICS_PER_STEP);
  d.steps[o.step] = rec;
}

/** Mirrors the plan state onto the step record (status, attempts, skip/cancel reasons). */
function syncStep(d: RunDoc, name: string, s: StepState, now: number): void {
  const rec: StepRecord = d.steps[name] ?? { name, status: 'NotStarted', attempts: 0 };
  rec.status = s.status;
  rec.attempts = s.attempt;
  if (s.jobId) rec.jobId = s.jobId;
  if (s.pool) rec.pool = s.pool;
  if (s.batches) {
    rec.batches = batchCounts(s.batches);
    const errors = mergeBatchErrors(rec.batchErrors, s.batches);
    if (errors.length) rec.batchErrors = errors;
  }
  if ((s.status === 'Skipped' || s.status === 'Canceled') && s.failure) {
    rec.error = { code: s.failure.code, message: s.failure.message };
    rec.finishedAt ??= iso(now);
  }
  if (s.status === 'Failed' && s.failure && !rec.error)
    rec.error = { code: s.failure.code, message: s.failure.message };
  d.steps[name] = rec;
}

/** The step record's batch counts, in mini-batch units (a parallelRun shard counts its mini-batches). */
function batchCounts(batches: readonly BatchState[]): NonNullable<StepRecord['batches']> {
  return miniBatchCounts(batches);
}

/**
 * The step's batch errors with the failures the plan state holds added (in mini-batch units): each batch
 * keeps its latest failure while its retry runs, so every failed attempt passes through here at least once.
 */
function mergeBatchErrors(
  known: StepRecord['batchErrors'],
  batches: readonly BatchState[],
): NonNullable<StepRecord['batchErrors']> {
  const out = [...(known ?? [])];
  const seen = new Set(out.map((e) => `${e.batch}.${e.attempt}`));
  for (const e of miniBatchErrors(batches)) {
    if (seen.has(`${e.batch}.${e.attempt}`)) continue;
    seen.add(`${e.batch}.${e.attempt}`);
    out.push(e);
  }
  return out.slice(-MAX_BATCH_ERRORS);
}

// ---------------------------------------------------------------- dispatching one step

type Dispatch =
  | { kind: 'reused'; step: string; outputs: Record<string, StepOutputRef>; record: StepRecord }
  /** Ran inside this activity (dataTransfer): no job, already finished. */
  | { kind: 'done'; step: string; outputs: Record<string, StepOutputRef>; record: StepRecord }
  | { kind: 'queued'; step: string; state: StepState; record: StepRecord }
  | { kind: 'failed'; step: string; failure: { code: JobFailureCode; message: string }; record: StepRecord };

type InputRefs = Record<string, { hash: string; type: 'file' | 'directory' }>;

/** The step's inputs by content hash, or the message naming the input that has no data. */
function resolveInputs(doc: RunDoc, state: PlanState, def: StepDefinition, step: string): InputRefs | string {
  const inputs: InputRefs = {};
  for (const [name, value] of Object.entries(stepInputBindings(def))) {
    const b = parseBinding(value);
    let ref: { hash: string; type: 'file' | 'directory' } | undefined;
    if (b.kind === 'pipelineInput') ref = doc.resolvedInputs[b.name];
    else if (b.kind === 'dataset') ref = doc.resolvedInputs[`ref:${value.trim()}`];
    else if (b.kind === 'stepOutput') ref = state.steps[b.step]?.outputs?.[b.output];
    if (!ref)
      return `input "${name}" of step "${step}" (${value}) has no data: the producing step or dataset gave none`;
    inputs[name] = { hash: ref.hash, type: ref.type };
  }
  return inputs;
}

async function dispatchStep(
  ctx: RunContext,
  state: PlanState,
  step: string,
  log: (m: string) => void,
  pending: Array<Promise<unknown>>,
  raise?: RaiseEvent,
): Promise<Dispatch> {
  const { doc, definition } = ctx;
  const def = definition.steps[step]!;
  const prev = state.steps[step]!;
  const attempt = prev.attempt + 1;
  const now = getClock().now();
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
  const fail = (code: JobFailureCode, message: string): Dispatch => ({
    kind: 'failed',
    step,
    failure: { code, message },
    record: { ...base, attempts: attempt, error: { code, message }, finishedAt: iso(now) },
  });

  if ((def.kind === 'parallelRun' || def.kind === 'sweep' || def.kind === 'automl') && prev.batches)
    return continueParallel(ctx, state, step, prev, base, fail, pending, log, raise);
  const targetName = def.compute ?? definition.settings?.defaultCompute ?? 'local';
  let target;
  try {
    target = await getComputeTarget(targetName);
  } catch (e) {
    return fail('platform', (e as Error).message);
  }
  if (!target)
    return fail(
      'platform',
      `step "${step}" uses compute target "${targetName}", which is not configured; add it to SLUICE_COMPUTE_TARGETS`,
    );

  const stepEnv = await environmentForDispatch(
    def.kind === 'dataTransfer' ? undefined : (def.environment ?? definition.environment),
    target.pool,
  );
  if (!stepEnv.ok) return fail('environment', stepEnv.message);

  // Inputs by content hash.
  const resolved = resolveInputs(doc, state, def, step);
  if (typeof resolved === 'string') return fail('missing-input', resolved);
  const inputs = resolved;
  const outputs = stepOutputs(def);
  // A dataTransfer has no command: its template names the destination, so the key covers kind, source
  // content and destination (and it reads in `sluice explain` as what the step does).
  // An automl step runs Sluice's runtime (lib/automl/runtime) as its code; its settings are its env.
  let automlCode: string | undefined;
  if (def.kind === 'automl')
    try {
      automlCode = await runtimeSnapshot();
    } catch (e) {
      return fail(
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
    // How the input is cut and gathered changes the output, so it is part of the key (and of the diff).
    kind:
      def.kind === 'parallelRun'
        ? `parallelRun(miniBatchSize=${def.miniBatchSize}, outputAction=${def.outputAction}, errorThreshold=${def.errorThreshold})`
        : def.kind === 'sweep'
          ? `sweep(${JSON.stringify({ task: def.task ?? null, metric: def.metric, goal: def.goal, sampler: def.sampler, seed: def.seed, maxTotalTrials: def.maxTotalTrials ?? null, maxConcurrentTrials: def.maxConcurrentTrials ?? null, earlyTermination: def.earlyTermination ?? null, searchSpace: def.searchSpace })})`
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
    cacheVersion: loadSettings().cacheVersion,
    fieldParameters: ctx.fieldParameters[step] ?? [],
  });
  const key = cacheKey(components);
  const canReuse = def.reuse !== false && !doc.forceRerun;

  let decision: CacheDecision | undefined;
  // The explanation is needed whenever the step runs; read it alongside the cache entry, not after it.
  const why = explainWhy(doc, step, components, def, prev);
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

  if (def.kind === 'dataTransfer')
    return runTransfer(
      ctx,
      step,
      attempt,
      def.destination,
      inputs.source!,
      key,
      components,
      decision,
      base,
      pending,
      log,
    );

  const jobId = `${step}.${attempt}`;
  if (canReuse) {
    const timeoutMs = stepTimeoutMs(def);
    const c = await claim(
      { key, runId: doc.runId, step, jobId, expiresAt: now + timeoutMs + lostAfterMs() * 2 },
      now,
    );
    if (!c.taken) {
      const follow = { runId: c.holder.runId, jobId: c.holder.jobId, step: c.holder.step };
      // Told of the holder's result by an event (tellWaiters); the poll stays as the safety net for a
      // holder that ends between its claim read here and this registration.
      pending.push(addWaiter(key, doc.runId, step).catch((e) => log(`waiter ${step}: ${e}`)));
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
    ...(components.code ? { code: components.code } : {}),
    inputs: Object.entries(inputs).map(([name, v]) => ({ name, hash: v.hash, type: v.type })),
    outputs: Object.entries(outputs).map(([name, v]) => ({ name, type: v.type })),
    timeoutMs: stepTimeoutMs(def),
    notify: { instanceId: doc.runId, eventName: `job:${jobId}` },
    createdAt: iso(now),
  };
  let batches: StepState['batches'];
  try {
    if (def.kind === 'parallelRun') {
      const input = inputs.input!;
      batches = await enqueueBatches(
        { ...spec },
        await makeBatches(input.hash, input.type, def.miniBatchSize, {
          slots: batchSlots(def, doc),
          retries: Number(def.retries) || 0,
          outputAction: def.outputAction,
        }),
        batchSlots(def, doc),
        now,
      );
    } else if (def.kind === 'sweep') {
      batches = await enqueueBatches(
        spec,
        sweepTrials(def.searchSpace, def.sampler, def.maxTotalTrials, def.seed).map((params) => ({
          status: 'NotStarted' as const,
          attempt: 0,
          params,
        })),
        batchSlots(def, doc),
        now,
        trialJob(spec, def.task),
      );
    } else if (def.kind === 'automl') {
      batches = await enqueueBatches(
        spec,
        planFamilies(def, doc.maxConcurrency).map((plan) => ({
          status: 'NotStarted' as const,
          attempt: 0,
          params: familyBatchParams(plan),
        })),
        batchSlots(def, doc),
        now,
        (b) => automlJob(def, b.params, spec),
      );
    } else await submitJob(spec);
  } catch (e) {
    if (canReuse) await release(key, doc.runId, step).catch(() => {});
    return fail('platform', `could not enqueue the job for step "${step}": ${(e as Error).message}`);
  }
  // Bookkeeping off the critical path: awaited by advance() together with the run document write.
  pending.push(
    noteLatest(doc, step, key, components, iso(now), log),
    ...Object.entries(inputs).map(([name, v]) =>
      recordConsumed(v.hash, { runId: doc.runId, step, input: name }).catch(() => {}),
    ),
  );
  return {
    kind: 'queued',
    step,
    state: batches
      ? { status: 'Running', attempt, pool: target.pool, batches, batchSlots: batchSlots(def, doc) }
      : { status: 'Queued', attempt, jobId, pool: target.pool },
    record: {
      ...base,
      status: batches ? 'Running' : 'Queued',
      attempts: attempt,
      ...(batches ? { startedAt: iso(now) } : { jobId }),
      pool: target.pool,
      queuedAt: iso(now),
      cache: ranBecause(key, decision, components),
    },
  };
}

/** The cache record of a step that runs: its key, why it runs, and what changed since the last time. */
function ranBecause(key: string, decision: CacheDecision, components: CacheComponents): StepRecord['cache'] {
  return {
    key,
    decision: 'run',
    reason: decision.reason,
    ...(decision.decision === 'run' && decision.changes.length
      ? { changes: decision.changes, since: decision.since }
      : {}),
    components,
  };
}

/**
 * A dataTransfer runs here, in the activity: the source is already in the content store, so the copy is
 * the same hash registered as the next version of the destination dataset (no bytes move, no agent).
 * Its cache entry, latest-execution record and lineage are written like a job's.
 */
async function runTransfer(
  ctx: RunContext,
  step: string,
  attempt: number,
  destination: string,
  source: { hash: string; type: 'file' | 'directory' },
  key: string,
  components: CacheComponents,
  decision: CacheDecision,
  base: StepRecord,
  pending: Array<Promise<unknown>>,
  log: (m: string) => void,
): Promise<Dispatch> {
  const { doc, definition } = ctx;
  const startedAt = iso(getClock().now());
  let out: StepOutputRef;
  try {
    out = await transferToDataset(destination, source, { runId: doc.runId, step });
  } catch (e) {
    const message = `step "${step}" could not copy its source to dataset "${destination}": ${(e as Error).message}`;
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
        finishedAt: iso(getClock().now()),
      },
    };
  }
  const finishedAt = iso(getClock().now());
  const outputs = { data: out };
  pending.push(
    noteLatest(doc, step, key, components, startedAt, log),
    recordConsumed(source.hash, { runId: doc.runId, step, input: 'source' }).catch(() => {}),
    recordProduced(out.hash, { runId: doc.runId, step, output: 'data' }).catch(() => {}),
  );
  if (definition.steps[step]?.reuse !== false)
    pending.push(
      writeEntry({
        key,
        runId: doc.runId,
        step,
        pipeline: doc.pipeline,
        outputs,
        components,
        createdAt: finishedAt,
      }).catch((e) => log(`cache ${step}: ${e}`)),
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
      cache: ranBecause(key, decision, components),
    },
  };
}

/**
 * Tells the runs that follow `key`'s claim (single-flight) how it ended, by a durable event on each,
 * instead of leaving them to find out by polling. A holder that ended without shareable outputs sends a
 * failed result: its followers then compute the step themselves. Best effort: the poll remains.
 */
async function tellWaiters(
  key: string,
  holderRunId: string,
  holderJobId: string,
  result: JobResult,
  raise: RaiseEvent | undefined,
  log: (m: string) => void,
): Promise<void> {
  if (!raise) return;
  const waiters = await takeWaiters(key).catch((e: unknown) => {
    log(`followers of ${key}: ${(e as Error).message}`);
    return [];
  });
  await Promise.all(
    waiters
      .filter((w) => w.runId !== holderRunId)
      .map((w) =>
        raise(w.runId, followEventName(holderRunId, holderJobId), result).catch((e: unknown) =>
          log(`telling run ${w.runId} of ${key}: ${(e as Error).message}`),
        ),
      ),
  );
}

/** A batch step's gathered outputs as the result its followers take. */
function shared(
  jobId: string,
  outputs: Record<string, StepOutputRef>,
  metrics: NonNullable<StepRecord['metrics']>,
): JobResult {
  return {
    jobId,
    state: 'succeeded',
    outputs: Object.entries(outputs).map(([name, o]) => ({
      name,
      type: o.type,
      hash: o.hash,
      size: o.size ?? 0,
    })),
    metrics,
    finishedAt: iso(getClock().now()),
    agentId: '',
  };
}

function notShared(jobId: string): JobResult {
  return {
    jobId,
    state: 'failed',
    failure: { code: 'platform', message: 'the run computing this step produced no outputs to share' },
    outputs: [],
    metrics: [],
    finishedAt: iso(getClock().now()),
    agentId: '',
  };
}

/** Records this run as the step's latest execution: what the next run's "why did this run" diffs against. */
function noteLatest(
  doc: RunDoc,
  step: string,
  cacheKey: string,
  components: CacheComponents,
  at: string,
  log: (m: string) => void,
): Promise<void> {
  return writeLatest({ pipeline: doc.pipeline, step, runId: doc.runId, cacheKey, components, at }).catch(
    (e) => log(`latest ${step}: ${e}`),
  );
}

/** How many mini-batch (or trial) jobs of a step run at once. */
function batchSlots(def: StepDefinition, doc: RunDoc): number {
  if (def.kind === 'sweep') return def.maxConcurrentTrials ?? doc.maxConcurrency;
  if (def.kind === 'automl') return familySlots(def, doc.maxConcurrency);
  return doc.maxConcurrency;
}

/**
 * A parallelRun step after one of its batches ended: start the next batches (or a failed batch's retry),
 * or, when every batch is settled, gather the outputs (success) or fail past the error threshold.
 */
async function continueParallel(
  ctx: RunContext,
  state: PlanState,
  step: string,
  prev: StepState,
  base: StepRecord,
  fail: (code: JobFailureCode, message: string) => Dispatch,
  pending: Array<Promise<unknown>>,
  log: (m: string) => void,
  raise?: RaiseEvent,
): Promise<Dispatch> {
  const { doc, definition } = ctx;
  const def = definition.steps[step]!;
  if (def.kind !== 'parallelRun' && def.kind !== 'sweep' && def.kind !== 'automl')
    return fail('platform', `step "${step}" is not a parallelRun, sweep or automl step`);
  const sweep = def.kind === 'sweep';
  const automl = def.kind === 'automl';
  const search = sweep || automl;
  const batches = prev.batches!;
  const rec = doc.steps[step];
  const key = rec?.cache?.key;
  const claimed = def.reuse !== false && !doc.forceRerun;
  // The step's single-flight claim was taken under the job id `<step>.<attempt>` (dispatchStep).
  const claimJobId = `${step}.${prev.attempt}`;
  /** Gives the claim up: the runs following it compute the step themselves. */
  const giveUp = (): Promise<unknown> =>
    release(key!, doc.runId, step)
      .catch(() => {})
      .then(() => tellWaiters(key!, doc.runId, claimJobId, notShared(claimJobId), raise, log));
  // A sweep tolerates failed trials (the best of the others wins); gathering fails if none reported the
  // metric. An automl step tolerates failed families: the gather job ranks the others.
  const verdict: MiniBatchVerdict | StepVerdict =
    def.kind === 'parallelRun' ? miniBatchVerdict(batches, def.errorThreshold) : stepVerdict(batches, -1);
  // A shard reports its mini-batches' failed attempts only when it ends: the final record keeps them.
  const merged = def.kind === 'parallelRun' ? mergeBatchErrors(rec?.batchErrors, batches) : [];
  const shardErrors = merged.length ? { batchErrors: merged } : {};
  const keep = {
    status: rec?.status ?? 'Running',
    attempts: prev.attempt,
    startedAt: rec?.startedAt,
  } as const;
  // A sweep's early termination: judged whenever one of its trials ends (lib/runs/early-termination.ts).
  if (sweep && def.earlyTermination && !verdict.done) {
    const stop = await sweepEarlyStops(doc.runId, step, def, batches).catch(() => []);
    for (const i of stop)
      pending.push(requestCancel(doc.runId, batchJobId(step, i, batches[i]!.attempt)).catch(() => undefined));
  }
  const gatherAt = automl ? batches.findIndex((b) => b.params?.role === 'gather') : -1;
  if (!verdict.done || (automl && gatherAt < 0)) {
    const target = (await getComputeTarget(def.compute ?? definition.settings?.defaultCompute ?? 'local'))!;
    // Every job gets the step's inputs: a sweep's whole, a parallelRun's side inputs (its split `input`
    // is replaced per batch).
    const resolved = resolveInputs(doc, state, def, step);
    if (typeof resolved === 'string') return fail('missing-input', resolved);
    const jobBase = {
      runId: doc.runId,
      stepName: step,
      pool: target.pool,
      target: target.name,
      ...(def.resources ? { resources: def.resources } : {}),
      kind: def.kind,
      command: rec!.cache!.components.command,
      ...(rec!.cache!.components.args ? { args: rec!.cache!.components.args } : {}),
      env: rec!.cache!.components.env,
      ...(rec!.cache!.components.code ? { code: rec!.cache!.components.code } : {}),
      inputs: Object.entries(resolved).map(([name, v]) => ({ name, hash: v.hash, type: v.type })),
      outputs: Object.entries(stepOutputs(def)).map(([name, v]) => ({ name, type: v.type })),
      timeoutMs: stepTimeoutMs(def),
      createdAt: iso(getClock().now()),
    };
    let next: BatchState[];
    if (automl) {
      // Every family has ended: one more job gathers them (best model, leaderboard, featurization).
      const families = gatherAt >= 0 ? batches.slice(0, gatherAt) : batches;
      const gathered =
        verdict.done || gatherAt >= 0 ? await automlGathered(doc.runId, step, families) : undefined;
      if (gathered && !gathered.results.length) {
        // No family trained a model: bad input (named by the runtime) or every family failed.
        if (claimed && key) pending.push(giveUp());
        const ends = Object.entries(gathered.failed);
        const bad = ends.find(([, f]) => f.status === 'BadInput');
        const d = fail(
          'exit-code',
          bad
            ? `step "${step}": ${bad[1].message}`
            : `step "${step}" trained no model; ${ends.map(([fam, f]) => `${fam}: ${f.status}${f.message ? ` (${f.message})` : ''}`).join('; ')}`,
        );
        return { ...d, record: { ...d.record, attempts: prev.attempt, startedAt: rec?.startedAt } };
      }
      const list: BatchState[] =
        gatherAt < 0 && verdict.done
          ? [...batches, { status: 'NotStarted', attempt: 0, params: { role: 'gather' } }]
          : batches;
      next = await enqueueBatches(jobBase, list, batchSlots(def, doc), getClock().now(), (b) =>
        automlJob(def, b.params, jobBase, gathered),
      );
    } else if (sweep)
      next = await enqueueBatches(
        jobBase,
        batches,
        batchSlots(def, doc),
        getClock().now(),
        trialJob(jobBase, def.task),
      );
    else next = await enqueueBatches(jobBase, batches, batchSlots(def, doc), getClock().now());
    return {
      kind: 'queued',
      step,
      state: { ...prev, status: 'Running', batches: next, batchSlots: batchSlots(def, doc) },
      record: { ...base, ...keep, status: 'Running' },
    };
  }
  if (!verdict.ok) {
    if (claimed && key) pending.push(giveUp());
    const first =
      def.kind === 'parallelRun'
        ? (verdict as FailedMiniBatches).first
        : batches[verdict.failed[0]!]!.failure;
    const code = (first?.code ?? 'exit-code') as JobFailureCode;
    const d = fail(
      code,
      `${verdict.failed.length} of ${def.kind === 'parallelRun' ? (verdict as FailedMiniBatches).total : batches.length} mini-batches of step "${step}" failed (errorThreshold ${search ? -1 : def.errorThreshold}); ` +
        `batch ${verdict.failed[0]}: ${first?.message ?? 'no message'}`,
    );
    return {
      ...d,
      record: { ...d.record, ...shardErrors, attempts: prev.attempt, startedAt: rec?.startedAt },
    };
  }
  let outputs: Record<string, StepOutputRef>;
  let winner: StepRecord['bestTrial'];
  let winnerMetrics: StepRecord['metrics'];
  let leaderboard: StepRecord['leaderboard'];
  try {
    if (automl) {
      const g = batches[gatherAt]!;
      const row =
        g.status === 'Succeeded'
          ? await readJob(doc.runId, batchJobId(step, gatherAt, g.attempt))
          : undefined;
      if (!row?.result) {
        if (claimed && key) pending.push(giveUp());
        const d = fail(
          (g.failure?.code ?? 'exit-code') as JobFailureCode,
          `step "${step}" trained no model: ${g.failure?.message ?? 'the gather job gave no result'}`,
        );
        return { ...d, record: { ...d.record, attempts: prev.attempt, startedAt: rec?.startedAt } };
      }
      outputs = {};
      for (const o of row.result.outputs) outputs[o.name] = { type: o.type, hash: o.hash, size: o.size };
      const lb = outputs.leaderboard;
      if (lb)
        leaderboard = parseLeaderboard(
          (await readSmall(lb.hash, 4 * 1024 * 1024)).toString('utf8'),
          MAX_LEADERBOARD_ROWS,
        );
      winnerMetrics = row.result.metrics.slice(-MAX_METRICS_PER_STEP);
    } else if (sweep) {
      const rows = await Promise.all(
        batches.map((b, i) =>
          b.status === 'Succeeded' ? readJob(doc.runId, batchJobId(step, i, b.attempt)) : undefined,
        ),
      );
      const best = bestTrial(
        rows.map((r) => r?.result?.metrics),
        def.metric,
        def.goal,
      );
      leaderboard = sweepLeaderboard(
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
        if (claimed && key) pending.push(giveUp());
        const ok = batches.filter((b) => b.status === 'Succeeded').length;
        const d = fail(
          ok ? 'missing-output' : ((batches[0]?.failure?.code ?? 'exit-code') as JobFailureCode),
          ok
            ? `none of the ${ok} succeeded trials of step "${step}" reported metric "${def.metric}"; write {"name":"${def.metric}","value":…} lines to $SLUICE_METRICS`
            : `all ${batches.length} trials of step "${step}" failed; trial 0: ${batches[0]?.failure?.message ?? 'no message'}`,
        );
        return { ...d, record: { ...d.record, attempts: prev.attempt, startedAt: rec?.startedAt } };
      }
      const row = rows[best.index]!.result!;
      outputs = {};
      for (const o of row.outputs) outputs[o.name] = { type: o.type, hash: o.hash, size: o.size };
      winner = {
        index: best.index,
        parameters: batches[best.index]!.params ?? {},
        metric: def.metric,
        value: best.value,
      };
      winnerMetrics = row.metrics.slice(-MAX_METRICS_PER_STEP);
    } else
      outputs = await gatherOutputs(
        doc.runId,
        step,
        batches,
        Object.keys(def.outputs ?? {}),
        def.outputAction,
      );
  } catch (e) {
    if (claimed && key) pending.push(giveUp());
    const d = fail(
      'platform',
      `gathering the mini-batch outputs of step "${step}" failed: ${(e as Error).message}`,
    );
    return { ...d, record: { ...d.record, attempts: prev.attempt } };
  }
  const finishedAt = iso(getClock().now());
  for (const [name, o] of Object.entries(outputs))
    pending.push(recordProduced(o.hash, { runId: doc.runId, step, output: name }).catch(() => {}));
  pending.push(registerOutputDatasets(def, outputs, { runId: doc.runId, step }).catch(() => {}));
  // Batches tolerated as failed (errorThreshold) leave their rows out: such outputs are not reused, so a
  // later run tries those batches again.
  const partial = !search && failedMiniBatches(batches).length > 0;
  if (partial && claimed && key) pending.push(giveUp());
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
                key,
                doc.runId,
                claimJobId,
                shared(claimJobId, outputs, winnerMetrics ?? []),
                raise,
                log,
              )
            : undefined,
        )
        .catch((e) => log(`cache ${step}: ${e}`)),
    );
  return {
    kind: 'done',
    step,
    outputs,
    record: {
      ...base,
      ...keep,
      status: 'Completed',
      outputs,
      finishedAt,
      batches: batchCounts(batches),
      ...shardErrors,
      ...(winner ? { bestTrial: winner, metrics: winnerMetrics } : {}),
      ...(leaderboard ? { leaderboard } : {}),
    },
  };
}

/** An automl trial's job: the command and env with `${{trial.NAME}}` replaced by the trial's values. */
/**
 * One trial's job: the command and env with `${{trial.X}}` substituted, and the sweep's `task` as
 * `SLUICE_AUTOML_TASK` (a trial script may pick its model family or metric by it; `task` is in the key).
 */
function trialJob(
  base: { command: string; args?: string[]; env?: Record<string, string> },
  task: string | undefined,
) {
  return (b: { params?: Record<string, string | number | boolean> }) => ({
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

async function explainWhy(
  doc: RunDoc,
  step: string,
  components: CacheComponents,
  def: StepDefinition,
  prev: StepState,
): Promise<CacheDecision> {
  if (prev.attempt > 0 && prev.failure)
    return explainRun({ why: 'retry', attempt: prev.attempt + 1, failure: prev.failure.message });
  if (doc.forceRerun) return explainRun({ why: 'forced' });
  if (def.reuse === false) return explainRun({ why: 'reuse-disabled' });
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

// ---------------------------------------------------------------- polling

/** Reads job rows (an event may have been lost) and fails jobs whose agent went silent as `lost`. */
export async function poll(input: PollInput): Promise<PollResult[]> {
  const out: PollResult[] = [];
  const lostAfter = lostAfterMs();
  await Promise.all(
    input.jobs.map(async (j) => {
      const row = await readJob(j.runId, j.jobId);
      if (j.follow) {
        // A parallelRun/automl holder has no job of its own (its work is batch jobs): follow its step.
        if (!row) {
          const holder = await readStepRecord(j.follow.runId, j.follow.step);
          if (holder && (holder.status === 'Queued' || holder.status === 'Running')) return;
          // A tolerated-partial parallelRun has no cache entry: its outputs are not for sharing.
          const shareable =
            holder?.status === 'Completed' &&
            holder.outputs &&
            holder.cache?.key &&
            (await readEntry(holder.cache.key))?.runId === j.follow.runId;
          if (shareable && holder.outputs)
            out.push({
              step: j.step,
              jobId: j.jobId,
              followed: j.follow,
              result: {
                jobId: j.jobId,
                state: 'succeeded',
                outputs: Object.entries(holder.outputs).map(([name, o]) => ({
                  name,
                  type: o.type,
                  hash: o.hash,
                  size: o.size ?? 0,
                })),
                metrics: holder.metrics ?? [],
                finishedAt: holder.finishedAt ?? iso(getClock().now()),
                agentId: '',
              },
            });
          else out.push({ step: j.step, jobId: j.jobId, followFailed: true });
          return;
        }
        if (row?.result?.state === 'succeeded')
          out.push({ step: j.step, jobId: j.jobId, result: row.result, followed: j.follow });
        else if (!row || (row.state !== 'queued' && row.state !== 'running'))
          out.push({ step: j.step, jobId: j.jobId, followFailed: true });
        else {
          const lost = await checkJob(j.runId, j.jobId, lostAfter, row);
          if (lost) out.push({ step: j.step, jobId: j.jobId, followFailed: true });
        }
        return;
      }
      if (!row) {
        out.push({
          step: j.step,
          jobId: j.jobId,
          result: {
            jobId: j.jobId,
            state: 'failed',
            failure: {
              code: 'platform',
              message: `job ${j.jobId} has no row in the jobs table; it was never enqueued or was deleted`,
            },
            outputs: [],
            metrics: [],
            finishedAt: iso(getClock().now()),
            agentId: '',
          },
        });
        return;
      }
      if (row.result) out.push({ step: j.step, jobId: j.jobId, result: row.result });
      else {
        const lost = await checkJob(j.runId, j.jobId, lostAfter, row);
        if (lost) out.push({ step: j.step, jobId: j.jobId, result: lost });
      }
    }),
  );
  return out.sort((a, b) => (a.step < b.step ? -1 : a.step > b.step ? 1 : 0));
}

// ---------------------------------------------------------------- finishing

async function replyIfAsked(doc: RunDoc, log: (m: string) => void): Promise<void> {
  if (doc.trigger.type !== 'queue' || !doc.trigger.replyTo || doc.replied) return;
  const outputs: Record<string, Record<string, StepOutputRef>> = {};
  for (const [name, s] of Object.entries(doc.steps)) if (s.outputs) outputs[name] = s.outputs;
  const summary = {
    runId: doc.runId,
    pipeline: doc.pipeline,
    version: doc.version,
    status: doc.status,
    outputs,
    startedAt: doc.startedAt ?? doc.createdAt,
    finishedAt: doc.finishedAt,
  };
  try {
    const q = getClients().queue.getQueueClient(doc.trigger.replyTo);
    await q.createIfNotExists();
    await q.sendMessage(Buffer.from(JSON.stringify(summary)).toString('base64'));
    await updateRun(doc.runId, (d) => {
      d.replied = true;
    });
  } catch (e) {
    log(
      `run ${doc.runId}: could not post the summary to queue ${doc.trigger.replyTo}: ${(e as Error).message}`,
    );
  }
}

// ---------------------------------------------------------------- aborting

/**
 * The orchestration could not go on (an activity kept failing): the run ends Failed with the reason,
 * running jobs are asked to stop, and steps not finished are marked Canceled/Skipped.
 */
export async function abortRun(input: { runId: string; message: string }): Promise<void> {
  contexts.delete(input.runId);
  const now = iso(getClock().now());
  const doc = await updateRun(input.runId, (d) => {
    d.status = 'Failed';
    d.error = `the run orchestration stopped: ${input.message}`;
    d.finishedAt ??= now;
    for (const s of Object.values(d.steps)) {
      if (s.status === 'Queued' || s.status === 'Running') {
        s.status = 'Canceled';
        s.error = { code: 'platform', message: d.error };
      } else if (s.status === 'NotStarted') {
        s.status = 'Skipped';
        s.error = { code: 'skipped', message: d.error };
      }
    }
  });
  await Promise.all(
    Object.values(doc.steps)
      .filter((s) => s.status === 'Canceled' && s.jobId)
      .map((s) => requestCancel(doc.runId, s.jobId!).catch(() => undefined)),
  );
  await releaseRunClaims(input.runId).catch(() => []);
  await replyIfAsked(doc, () => {});
}
