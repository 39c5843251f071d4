import type { JobFailureCode } from '../compute/job';
import { stepDependencies } from '../pipelines/graph';
import type { PipelineDefinition } from '../pipelines/schema';
import { nextBatchRetryAt } from './parallel-plan';
import {
  ACTIVE,
  NOT_STARTED,
  TERMINAL,
  readyFrontier,
  setHalted,
  setStep,
  summary,
  type PlanState,
  type RunStatus,
  type StepGraph,
  type StepOutputRef,
  type StepState,
  type StepStatus,
} from './plan-state';

/**
 * Run planning: deterministic functions over a serialisable run state. The orchestrator (replayed, so it
 * must be deterministic) and the dispatch activity (which cascades through Reused steps) both call these,
 * and the unit tests call them directly. Nothing here reads a clock, the network or the environment: "now"
 * is always an argument.
 *
 * A state is changed in place (see plan-state.ts): the functions that change it return it. What they do
 * per event costs in proportion to what changed, not to the run's size; only building a state (initial,
 * expanded, compacted) visits every step.
 */

export {
  ACTIVE,
  NOT_STARTED,
  SUCCEEDED,
  TERMINAL,
  activeSteps,
  setHalted,
  setStep,
  settle,
  type PlanState,
  type RunStatus,
  type StepGraph,
  type StepOutputRef,
  type StepState,
  type StepStatus,
} from './plan-state';
export { applyDelta, compactState, expandState, pendingDelta, type StateDelta } from './plan-transport';

export function buildGraph(def: Pick<PipelineDefinition, 'steps'>): StepGraph {
  const raw = stepDependencies(def);
  const names = Object.keys(def.steps);
  const deps: Record<string, string[]> = {};
  const dependants: Record<string, string[]> = {};
  for (const n of names) dependants[n] = [];
  for (const n of names) {
    deps[n] = raw[n]!.all.filter((d) => d in def.steps);
    for (const d of deps[n]) dependants[d]!.push(n);
  }
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < names.length) {
    const next = names.find((n) => !done.has(n) && deps[n]!.every((d) => done.has(d)));
    if (next === undefined)
      throw new Error('the steps form a cycle; validation should have rejected this definition');
    done.add(next);
    order.push(next);
  }
  return { order, deps, dependants };
}

export function initialState(graph: StepGraph): PlanState {
  const steps: Record<string, StepState> = {};
  for (const n of graph.order) steps[n] = NOT_STARTED;
  return { steps };
}

/** Every step downstream of `step` (transitively), in topological order. */
export function downstreamOf(graph: StepGraph, step: string): string[] {
  const seen = new Set<string>();
  const stack = [...graph.dependants[step]!];
  while (stack.length) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    stack.push(...graph.dependants[s]!);
  }
  return graph.order.filter((s) => seen.has(s));
}

/**
 * Steps to start now: not started (or past their retry back-off), every dependency succeeded, the run not
 * halted, and no more than `maxConcurrency` active at once. No level barriers: a step is ready as soon as
 * its own dependencies are done, whatever else is still running.
 */
export function readySteps(
  graph: StepGraph,
  state: PlanState,
  maxConcurrency: number,
  now: number,
): string[] {
  if (state.halted) return [];
  const active = summary(state).active.size;
  const out: string[] = [];
  for (const p of readyFrontier(state, graph)) {
    if (active + out.length >= maxConcurrency) break;
    const name = graph.order[p]!;
    const s = state.steps[name]!;
    if (s.retryAt !== undefined && s.retryAt > now) continue;
    out.push(name);
  }
  return out;
}

/** The earliest pending retry time (a step's, or a running step's failed mini-batch), for the orchestrator's timer. */
export function nextRetryAt(state: PlanState): number | undefined {
  if (state.halted) return undefined;
  const { retrying, batchActive } = summary(state);
  let at: number | undefined;
  const consider = (t: number | undefined): void => {
    if (t !== undefined) at = at === undefined ? t : Math.min(at, t);
  };
  for (const name of retrying) consider(state.steps[name]!.retryAt);
  for (const name of batchActive) {
    const s = state.steps[name]!;
    consider(nextBatchRetryAt(s.batches!, s.batchSlots));
  }
  return at;
}

/** Active batch steps with a failed mini-batch whose retry is due: the dispatch activity starts it again. */
export function dueBatchRetries(state: PlanState, now: number): string[] {
  if (state.halted) return [];
  const out: string[] = [];
  for (const name of summary(state).batchActive) {
    const s = state.steps[name]!;
    const at = nextBatchRetryAt(s.batches!, s.batchSlots);
    if (at !== undefined && at <= now) out.push(name);
  }
  return out;
}

/** How many steps have each status (statuses no step has are left out). */
export function stepCounts(state: PlanState): Partial<Record<StepStatus, number>> {
  const out: Partial<Record<StepStatus, number>> = {};
  for (const [k, n] of Object.entries(summary(state).byStatus)) if (n) out[k as StepStatus] = n;
  return out;
}

export function isFinished(state: PlanState): boolean {
  const m = summary(state);
  return m.terminal === m.total;
}

/** The run's status from its steps. */
export function runStatus(state: PlanState): RunStatus {
  const m = summary(state);
  if (!isFinished(state)) return m.started > 0 ? 'Running' : 'Queued';
  if (state.halted === 'canceled') return 'Canceled';
  if (m.failed > 0) return 'Failed';
  if (m.canceled > 0) return 'Canceled';
  return 'Completed';
}

// ---------------------------------------------------------------- failures and retries

export { failureDecision, retryBackoffMs, type FailureDecision } from './failure-policy';
import { failureDecision, retryBackoffMs } from './failure-policy';

/** Idle polls (≈ 5 minutes) after which the safety-net poll slows to `LONG_POLL_MS`. */
export const LONG_POLL_AFTER = 30;
export const LONG_POLL_MS = 60_000;

/**
 * Job polling delay after `n` polls that found nothing new: 2 s, 4 s, 8 s, then every 10 s; after about
 * five quiet minutes, once a minute. Completion normally arrives as an event, so the poll is the safety
 * net (a lost event, a silent agent): every poll is a timer and an activity in the run's history, and a
 * step that trains for a day would otherwise add thousands of them, which every later episode replays.
 */
export function pollDelayMs(n: number, baseMs = 2000, capMs = 10_000): number {
  if (n >= LONG_POLL_AFTER) return LONG_POLL_MS;
  return Math.min(capMs, baseMs * 2 ** Math.max(0, n));
}

export interface FailureEffect {
  state: PlanState;
  /** Active steps whose jobs must be cancelled (default policy). */
  cancel: string[];
  /** Every active step this failure ended (with or without a job): their claims and waiters go too. */
  ended: string[];
  /** What each ended step was just before (its job, its batches, whom it followed). */
  was: Record<string, StepState>;
  /** True when the step will be attempted again after its back-off. */
  retrying: boolean;
}

export interface FailurePolicy {
  retries: number;
  continueOnStepFailure: boolean;
  now: number;
}

/**
 * A step's attempt failed. Retry when the failure is retryable and attempts remain; otherwise the step is
 * Failed (or Canceled), everything downstream is Skipped, and unless `continueOnStepFailure` the run halts:
 * active steps are Canceled and every step not started is Skipped.
 */
export function applyFailure(
  graph: StepGraph,
  state: PlanState,
  step: string,
  failure: { code: JobFailureCode; message: string },
  policy: FailurePolicy,
): FailureEffect {
  const s = state.steps[step]!;
  const decision = failureDecision(failure.code);
  if (!state.halted && decision.retryable && s.attempt <= policy.retries) {
    setStep(state, step, {
      status: 'NotStarted',
      attempt: s.attempt,
      retryAt: policy.now + retryBackoffMs(s.attempt),
      failure,
    });
    return { state, cancel: [], ended: [], was: {}, retrying: true };
  }
  setStep(state, step, { ...s, status: decision.status, failure, retryAt: undefined, follow: undefined });
  const reason = `skipped because \`${step}\` ${decision.status === 'Canceled' ? 'was canceled' : 'failed'}`;
  for (const d of downstreamOf(graph, step))
    if (!TERMINAL.has(state.steps[d]!.status)) setStep(state, d, skipped(state.steps[d]!, reason));
  const halt =
    !policy.continueOnStepFailure && !state.halted
      ? haltAll(graph, state, 'failed', {
          canceled: `canceled because \`${step}\` failed`,
          skipped: `skipped because \`${step}\` failed`,
        })
      : { cancel: [], ended: [], was: {} };
  return { state, ...halt, retrying: false };
}

/**
 * The run was canceled: active steps are Canceled, steps not started are Skipped. `cancel` names the
 * steps with jobs to stop; `ended` every active step it ended (a follower has no job, but a waiter).
 */
export function applyCancel(
  graph: StepGraph,
  state: PlanState,
): { state: PlanState; cancel: string[]; ended: string[]; was: Record<string, StepState> } {
  const halt = haltAll(graph, state, 'canceled', {
    canceled: 'the run was canceled',
    skipped: 'skipped because the run was canceled',
  });
  return { state, ...halt };
}

/** Halts the run: every active step Canceled, every step not started Skipped (once per run, so a full pass). */
function haltAll(
  graph: StepGraph,
  state: PlanState,
  halted: NonNullable<PlanState['halted']>,
  messages: { canceled: string; skipped: string },
): { cancel: string[]; ended: string[]; was: Record<string, StepState> } {
  setHalted(state, halted);
  const cancel: string[] = [];
  const ended: string[] = [];
  const was: Record<string, StepState> = {};
  for (const name of graph.order) {
    const t = state.steps[name]!;
    if (ACTIVE.has(t.status)) {
      setStep(state, name, {
        ...t,
        status: 'Canceled',
        failure: { code: 'canceled', message: messages.canceled },
      });
      ended.push(name);
      was[name] = t;
      if (t.jobId || t.batches) cancel.push(name);
    } else if (t.status === 'NotStarted') setStep(state, name, skipped(t, messages.skipped));
  }
  return { cancel, ended, was };
}

export function applySuccess(
  state: PlanState,
  step: string,
  status: 'Completed' | 'Reused',
  outputs: Record<string, StepOutputRef>,
): PlanState {
  const s = state.steps[step]!;
  // A late success after the run halted (its cancel raced the finish) still counts: the outputs exist.
  return setStep(state, step, { status, attempt: s.attempt, jobId: s.jobId, pool: s.pool, outputs });
}

function skipped(s: StepState, message: string): StepState {
  return { status: 'Skipped', attempt: s.attempt, failure: { code: 'skipped', message } };
}
