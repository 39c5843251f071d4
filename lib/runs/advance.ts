import { recordProduced } from '../data/lineage';
import type { AdvanceInput, AdvanceOutput, EndedStep } from './activity-contract';
import { release, writeEntry } from './cache-store';
import { dispatchStep } from './dispatch';
import { finishRun } from './finish';
import {
  applyDelta,
  applyFailure,
  applySuccess,
  expandState,
  isFinished,
  pendingDelta,
  readySteps,
  runStatus,
  settle,
  stepCounts,
  setStep,
  type PlanState,
  type StateDelta,
} from './plan';
import { forgetRun, rememberPlan, runContext, takePlan } from './run-context';
import { iso, type RunDeps } from './run-deps';
import { releaseEnded, tellWaiters } from './single-flight';
import { mergeDispatched, observe, outputsOf, project } from './step-record';
import { updateRun, type RunDoc, type StepRecord } from './store';
import { registerOutputDatasets } from './transfer';

/**
 * The `runs-advance` activity: persists what happened since the last call, dispatches the ready steps
 * (cache check, single-flight claim, enqueue) and cascades through steps that turn out Reused, so an
 * all-Reused run takes one activity, not one per step. Safe to run twice (activities are at-least-once):
 * job ids are deterministic and every write is an upsert or an etag-guarded replace.
 */
export async function advance(deps: RunDeps, input: AdvanceInput): Promise<AdvanceOutput> {
  const ctx = await runContext(input.runId);
  const { doc, definition } = ctx;
  const { log } = deps;
  // The plan: sent whole, or the one this process returned last time plus what changed since. It is taken
  // out while this call changes it in place: a call that fails midway leaves none, and the next is sent
  // the whole plan.
  const known = takePlan(input.runId);
  if (!input.state && known?.seq !== input.seq) return { needState: true };
  const initial = settle(
    input.state ? expandState(ctx.graph, input.state) : applyDelta(known!.state, input.changes),
  );
  const now = deps.clock.now();
  const patches: Array<(d: RunDoc) => void> = [];
  const sideEffects: Array<Promise<unknown>> = [];

  // 1. Cancel jobs the orchestrator decided to stop.
  for (const c of input.cancel)
    sideEffects.push(deps.compute.cancel(input.runId, c.jobId).catch((e) => log(`cancel ${c.jobId}: ${e}`)));

  // 2. Persist observations: outputs, metrics, cache entries for fresh successes. Their writes start just
  // after the next jobs' dispatch has sent its first request: a chain's next step waits for that one.
  const later: Array<() => Promise<unknown>> = [];
  for (const o of input.observations) {
    const s = initial.steps[o.step] ?? { status: 'NotStarted' as const, attempt: 0 };
    patches.push((d) => (d.steps[o.step] = observe(d.steps[o.step], o, s)));
    const rec = doc.steps[o.step];
    // Only a step that could reuse took a single-flight claim (dispatch): others have none to release,
    // and looking for it would cost a Cosmos read per step.
    const claimed = definition.steps[o.step]?.reuse !== false && !doc.forceRerun;
    const key = rec?.cache?.key;
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
      if (key && definition.steps[o.step]?.reuse !== false)
        later.push(() =>
          writeEntry({
            key,
            runId: input.runId,
            step: o.step,
            pipeline: doc.pipeline,
            outputs,
            components: rec.cache!.components,
            createdAt: iso(now),
          })
            .then(() => (claimed ? release(key, input.runId, o.step) : undefined))
            .then(() => (claimed ? tellWaiters(deps, key, input.runId, o.jobId, o.result) : undefined)),
        );
    } else if (claimed && key && !o.followed && o.result.state !== 'succeeded') {
      later.push(() =>
        release(key, input.runId, o.step)
          .catch(() => {})
          .then(() => tellWaiters(deps, key, input.runId, o.jobId, o.result)),
      );
    }
  }
  later.push(...releaseEnded(deps, ctx, input.ended ?? [], initial, {}));
  const startLater = (): void => {
    for (const f of later.splice(0)) sideEffects.push(f());
  };

  // 3. Dispatch ready steps, cascading through Reused ones.
  let state = initial;
  let ready = input.dispatch;
  const dispatched: Record<string, StepRecord> = {};
  let guard = 0;
  while (ready.length && guard++ < 10_000) {
    const dispatching = ready.map((step) => dispatchStep(deps, ctx, state, step, sideEffects));
    startLater();
    const decisions = await Promise.all(dispatching);
    for (const d of decisions) {
      dispatched[d.step] = d.record;
      if (d.kind === 'reused') {
        state = applySuccess(state, d.step, 'Reused', d.outputs);
        sideEffects.push(
          registerOutputDatasets(definition.steps[d.step], d.outputs, {
            runId: input.runId,
            step: d.step,
          }).catch((e) => log(`registering the outputs of ${d.step} as datasets: ${(e as Error).message}`)),
        );
      } else if (d.kind === 'done') state = applySuccess(state, d.step, 'Completed', d.outputs);
      else if (d.kind === 'queued') state = setStep(state, d.step, d.state);
      else {
        const eff = applyFailure(
          ctx.graph,
          setStep(state, d.step, {
            ...state.steps[d.step]!,
            status: 'Queued',
            attempt: state.steps[d.step]!.attempt + 1,
          }),
          d.step,
          d.failure,
          { retries: 0, continueOnStepFailure: doc.continueOnStepFailure, now: input.now },
        );
        for (const c of eff.cancel) {
          const jobId = eff.was[c]?.jobId;
          if (jobId) sideEffects.push(deps.compute.cancel(input.runId, jobId).catch(() => {}));
        }
        const ended = eff.ended.map((step): EndedStep => ({
          step,
          role: eff.was[step]?.follow ? 'follower' : 'holder',
        }));
        for (const f of releaseEnded(deps, ctx, ended, state, dispatched)) sideEffects.push(f());
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
  const out = pendingDelta(state);
  const touched = touchedSteps(input, state, out, dispatched, doc);
  const updated = await updateRun(
    input.runId,
    (d) => {
      if (input.starting && !d.startedAt) d.startedAt = iso(now);
      for (const p of patches) p(d);
      for (const [name, rec] of Object.entries(dispatched))
        d.steps[name] = mergeDispatched(d.steps[name], rec);
      for (const name of touched) {
        const s = state.steps[name];
        if (s) d.steps[name] = project(d.steps[name], name, s, now);
      }
      d.status = finished ? status : d.status === 'Queued' || input.starting ? 'Running' : d.status;
      d.stepCounts = stepCounts(state);
      if (finished && !d.finishedAt) d.finishedAt = iso(deps.clock.now());
    },
    ctx.doc,
    touched,
  );
  ctx.doc = updated;
  await Promise.all(sideEffects);
  if (finished) {
    forgetRun(input.runId);
    await finishRun(deps, updated);
  } else rememberPlan(input.runId, input.seq + 1, settle(state));
  return { delta: out, finished };
}

/**
 * The steps whose records this advance may change: what the orchestration changed since the last call,
 * what this call observed, dispatched or changed. Only their step pages are written, so the write does
 * not grow with the run. A call carrying the whole plan (first call, or the activity lost its copy)
 * projects every step.
 */
function touchedSteps(
  input: AdvanceInput,
  state: PlanState,
  out: StateDelta,
  dispatched: Record<string, StepRecord>,
  doc: RunDoc,
): Set<string> {
  if (input.state) return new Set([...Object.keys(state.steps), ...Object.keys(doc.steps)]);
  return new Set([
    ...Object.keys(input.changes.steps),
    ...Object.keys(input.changes.batches ?? {}),
    ...Object.keys(out.steps),
    ...Object.keys(out.batches ?? {}),
    ...input.observations.map((o) => o.step),
    ...Object.keys(dispatched),
  ]);
}
