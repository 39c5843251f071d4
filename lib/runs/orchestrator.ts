import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { JobFailureCode, JobResult } from '../compute/job';
import type {
  AdvanceInput,
  AdvanceOutput,
  OrchestrationInput,
  PollInput,
  PollResult,
  StepObservation,
} from './engine';
import {
  ACTIVE,
  applyCancel,
  applyDelta,
  applyFailure,
  applySuccess,
  compactState,
  dueBatchRetries,
  initialState,
  isFinished,
  nextRetryAt,
  pollDelayMs,
  readySteps,
  runStatus,
  type PlanState,
  type RunStatus,
  type StepOutputRef,
} from './plan';
import { batchFailed, batchJobId, parseBatchJobId } from './parallel-plan';

/**
 * The run orchestration: every step of a run inside ONE orchestration (see lib/runs/README.md for why
 * not a sub-orchestration per step). Deterministic: it reads time only from `currentUtcDateTime`, decides
 * only through the pure planner (plan.ts), and does I/O only through two activities:
 * - `runs-advance`: persist what happened, dispatch ready steps (cascading through Reused ones);
 * - `runs-poll`: read job rows when the timer fires (a lost event costs seconds, not the run).
 * It waits for any job's completion event, the run's `cancel` event, or one timer (poll / retry back-off).
 */

export const RUN_ORCHESTRATION = 'run-pipeline';
export const ADVANCE_ACTIVITY = 'runs-advance';
export const POLL_ACTIVITY = 'runs-poll';
export const ABORT_ACTIVITY = 'runs-abort';
export const CANCEL_EVENT = 'cancel';
export const jobEventName = (jobId: string): string => `job:${jobId}`;
/**
 * Single-flight: the claim holder's result, raised on each following run. Named after the holder's run
 * and job, never `job:…`, so it cannot be mistaken for a job of the follower's own.
 */
export const followEventName = (runId: string, jobId: string): string => `follow:${runId}:${jobId}`;

function outputsOf(r: JobResult): Record<string, StepOutputRef> {
  const out: Record<string, StepOutputRef> = {};
  for (const o of r.outputs ?? []) out[o.name] = { type: o.type, hash: o.hash, size: o.size };
  return out;
}

function failureOf(r: JobResult): { code: JobFailureCode; message: string } {
  if (r.failure) return r.failure;
  if (r.state === 'canceled') return { code: 'canceled', message: 'the job was canceled' };
  return { code: 'platform', message: `the job ended ${r.state} without a failure record` };
}

/** Storage and Cosmos hiccups should not fail a run: activities retry 1 s, 2 s, 4 s, 8 s apart. */
function activityRetry(): df.RetryOptions {
  const r = new df.RetryOptions(1000, 5);
  r.backoffCoefficient = 2;
  return r;
}

export function* runOrchestrator(context: OrchestrationContext): Generator<Task, RunStatus, unknown> {
  const input = context.df.getInput() as OrchestrationInput;
  try {
    return yield* orchestrate(context, input);
  } catch (e) {
    // An activity failed through all its retries: end the run as Failed, saying why, rather than leave it Running.
    const message = e instanceof Error ? e.message : String(e);
    yield context.df.callActivityWithRetry(ABORT_ACTIVITY, activityRetry(), { runId: input.runId, message });
    return 'Failed';
  }
}

function* orchestrate(
  context: OrchestrationContext,
  input: OrchestrationInput,
): Generator<Task, RunStatus, unknown> {
  const graph = input.graph;
  const now = (): number => context.df.currentUtcDateTime.getTime();
  let state: PlanState = initialState(graph);
  let observations: StepObservation[] = [];
  let cancel: Array<{ step: string; jobId: string }> = [];
  let dispatch = readySteps(graph, state, input.maxConcurrency, now());
  let starting = true;
  let idlePolls = 0;
  // parallelRun steps whose batch ended: runs-advance starts the next batches or gathers the outputs.
  let continuing: string[] = [];

  /** The jobs a step has running: its own, or one per running mini-batch. */
  const jobsOf = (step: string): string[] => {
    const s = state.steps[step];
    if (!s) return [];
    if (s.batches)
      return s.batches.flatMap((b, i) => (b.status === 'Running' ? [batchJobId(step, i, b.attempt)] : []));
    return s.jobId ? [s.jobId] : [];
  };

  const applyResult = (r: PollResult): void => {
    const s = state.steps[r.step];
    if (!s || !ACTIVE.has(s.status)) return; // already decided (canceled, or a duplicate report)
    if ('followFailed' in r || (r.followed && r.result.state !== 'succeeded')) {
      if (!s.follow) return;
      // The run we waited for did not produce the outputs: compute them here (a fresh claim).
      state = { ...state, steps: { ...state.steps, [r.step]: { status: 'NotStarted', attempt: s.attempt } } };
      return;
    }
    if (s.batches) {
      const id = parseBatchJobId(r.step, r.jobId);
      const b = id && s.batches[id.index];
      if (!id || !b || b.status !== 'Running' || b.attempt !== id.attempt || 'followFailed' in r) return;
      const batches = s.batches.slice();
      batches[id.index] =
        r.result.state === 'succeeded'
          ? { ...b, status: 'Succeeded' }
          : batchFailed(b, failureOf(r.result), input.retries[r.step] ?? 0, now());
      state = { ...state, steps: { ...state.steps, [r.step]: { ...s, batches } } };
      if (!continuing.includes(r.step)) continuing.push(r.step);
      return;
    }
    if (!r.followed && s.jobId !== r.jobId) return; // a stale attempt
    if (r.followed && (!s.follow || s.follow.jobId !== r.jobId)) return; // not (or no longer) this holder
    observations.push({
      step: r.step,
      jobId: r.jobId,
      result: r.result,
      ...(r.followed ? { followed: r.followed } : {}),
    });
    if (r.result.state === 'succeeded') {
      state = applySuccess(state, r.step, r.followed ? 'Reused' : 'Completed', outputsOf(r.result));
      return;
    }
    const eff = applyFailure(graph, state, r.step, failureOf(r.result), {
      retries: input.retries[r.step] ?? 0,
      continueOnStepFailure: input.continueOnStepFailure,
      now: now(),
    });
    state = eff.state;
    for (const c of eff.cancel) for (const jobId of jobsOf(c)) cancel.push({ step: c, jobId });
  };

  for (;;) {
    if (continuing.length) {
      dispatch = [
        ...dispatch,
        ...continuing.filter((c) => !dispatch.includes(c) && ACTIVE.has(state.steps[c]!.status)),
      ];
      continuing = [];
    }
    if (starting || dispatch.length || observations.length || cancel.length) {
      const req: AdvanceInput = {
        runId: input.runId,
        now: now(),
        state: compactState(state),
        dispatch,
        observations,
        cancel,
        ...(starting ? { starting } : {}),
      };
      const out = (yield context.df.callActivityWithRetry(
        ADVANCE_ACTIVITY,
        activityRetry(),
        req,
      )) as AdvanceOutput;
      state = applyDelta(state, out.delta);
      starting = false;
      observations = [];
      cancel = [];
      if (out.finished) return runStatus(state);
    }

    const active = Object.entries(state.steps).filter(([, s]) => ACTIVE.has(s.status));
    const retryAt = nextRetryAt(state);
    if (active.length === 0 && retryAt === undefined) {
      dispatch = readySteps(graph, state, input.maxConcurrency, now());
      if (dispatch.length || isFinished(state)) continue;
      // Nothing runs, nothing can start: the remaining steps are unreachable. Close them rather than hang.
      const c = applyCancel(graph, state);
      state = { ...c.state, halted: state.halted ?? 'failed' };
      observations = [];
      starting = true;
      continue;
    }

    const waits = new Map<
      Task,
      { step: string; jobId: string; followed?: { runId: string; step: string } }
    >();
    for (const [step, s] of active)
      if (s.follow) {
        const { runId, jobId } = s.follow;
        waits.set(context.df.waitForExternalEvent(followEventName(runId, jobId)), {
          step,
          jobId,
          followed: { runId, step: s.follow.step },
        });
      } else
        for (const jobId of jobsOf(step))
          waits.set(context.df.waitForExternalEvent(jobEventName(jobId)), { step, jobId });
    const cancelTask = context.df.waitForExternalEvent(CANCEL_EVENT);
    let fireAt = now() + pollDelayMs(idlePolls);
    if (retryAt !== undefined) fireAt = Math.min(fireAt, Math.max(retryAt, now()));
    const timer = context.df.createTimer(new Date(fireAt));
    const winner = (yield context.df.Task.any([cancelTask, timer, ...waits.keys()])) as Task;

    if (winner === cancelTask) {
      timer.cancel();
      const c = applyCancel(graph, state);
      state = c.state;
      for (const step of c.cancel) for (const jobId of jobsOf(step)) cancel.push({ step, jobId });
      // Record who asked: the event's payload (if any) lands on the run via the advance call.
      dispatch = [];
      continue;
    }
    if (winner === timer) {
      idlePolls++;
      const jobs: PollInput['jobs'] = [];
      for (const [step, s] of active) {
        if (s.follow)
          jobs.push({
            step,
            runId: s.follow.runId,
            jobId: s.follow.jobId,
            follow: { runId: s.follow.runId, step: s.follow.step },
          });
        else for (const jobId of jobsOf(step)) jobs.push({ step, runId: input.runId, jobId });
      }
      if (jobs.length) {
        const results = (yield context.df.callActivity(POLL_ACTIVITY, {
          runId: input.runId,
          jobs,
        } satisfies PollInput)) as PollResult[];
        if (results.length) idlePolls = 0;
        for (const r of results) applyResult(r);
      }
    } else {
      timer.cancel();
      idlePolls = 0;
      const w = waits.get(winner)!;
      applyResult({
        step: w.step,
        jobId: w.jobId,
        result: winner.result as JobResult,
        ...(w.followed ? { followed: w.followed } : {}),
      });
    }
    dispatch = readySteps(graph, state, input.maxConcurrency, now());
    for (const step of dueBatchRetries(state, now())) if (!continuing.includes(step)) continuing.push(step);
  }
}
