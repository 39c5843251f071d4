import type { JobFailureCode } from '../compute/job';
import { stepDependencies } from '../pipelines/graph';
import type { PipelineDefinition } from '../pipelines/schema';
import { nextBatchRetryAt, type BatchState } from './parallel-plan';

/**
 * Run planning: pure functions over a serialisable run state. The orchestrator (replayed, so it must be
 * deterministic) and the dispatch activity (which cascades through Reused steps) both call these, and the
 * unit tests call them directly. Nothing here reads a clock, the network or the environment: "now" is
 * always an argument.
 */

export type StepStatus =
  'NotStarted' | 'Queued' | 'Running' | 'Completed' | 'Reused' | 'Failed' | 'Canceled' | 'Skipped';

export type RunStatus = 'Queued' | 'Running' | 'Completed' | 'Failed' | 'Canceled';

export interface StepOutputRef {
  type: 'file' | 'directory';
  hash: string;
  size?: number;
}

/** What the orchestrator tracks per step; the run document holds the richer record. */
export interface StepState {
  status: StepStatus;
  /** Attempts started so far (a Reused step counts 0). */
  attempt: number;
  jobId?: string;
  pool?: string;
  /** Epoch ms: a failed attempt waits for its back-off before the next one. */
  retryAt?: number;
  outputs?: Record<string, StepOutputRef>;
  failure?: { code: JobFailureCode | 'skipped'; message: string };
  /** Another run computes the same cache key: follow its job instead of running (single-flight). */
  follow?: { runId: string; jobId: string; step: string };
  /** parallelRun: one entry per mini-batch (automl: per trial); such a step has no `jobId` of its own. */
  batches?: BatchState[];
  /** How many of `batches` may run at once. */
  batchSlots?: number;
}

export interface PlanState {
  steps: Record<string, StepState>;
  /** Set when the run was canceled or a failure stopped it: nothing new starts. */
  halted?: 'canceled' | 'failed';
}

export interface StepGraph {
  /** Steps in topological order (definition order among equals). */
  order: string[];
  /** Step → the steps it waits for (data edges ∪ `after`). */
  deps: Record<string, string[]>;
  /** Step → the steps that wait for it. */
  dependants: Record<string, string[]>;
}

export const TERMINAL: ReadonlySet<StepStatus> = new Set([
  'Completed',
  'Reused',
  'Failed',
  'Canceled',
  'Skipped',
]);
export const SUCCEEDED: ReadonlySet<StepStatus> = new Set(['Completed', 'Reused']);
export const ACTIVE: ReadonlySet<StepStatus> = new Set(['Queued', 'Running']);

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
  for (const n of graph.order) steps[n] = { status: 'NotStarted', attempt: 0 };
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
  let active = 0;
  for (const s of Object.values(state.steps)) if (ACTIVE.has(s.status)) active++;
  const out: string[] = [];
  for (const name of graph.order) {
    if (active + out.length >= maxConcurrency) break;
    const s = state.steps[name]!;
    if (s.status !== 'NotStarted') continue;
    if (s.retryAt !== undefined && s.retryAt > now) continue;
    if (graph.deps[name]!.every((d) => SUCCEEDED.has(state.steps[d]!.status))) out.push(name);
  }
  return out;
}

/** The earliest pending retry time (a step's, or a running step's failed mini-batch), for the orchestrator's timer. */
export function nextRetryAt(state: PlanState): number | undefined {
  if (state.halted) return undefined;
  let at: number | undefined;
  for (const s of Object.values(state.steps)) {
    const t =
      s.status === 'NotStarted'
        ? s.retryAt
        : ACTIVE.has(s.status) && s.batches
          ? nextBatchRetryAt(s.batches, s.batchSlots)
          : undefined;
    if (t !== undefined) at = at === undefined ? t : Math.min(at, t);
  }
  return at;
}

/** Active batch steps with a failed mini-batch whose retry is due: the dispatch activity starts it again. */
export function dueBatchRetries(state: PlanState, now: number): string[] {
  if (state.halted) return [];
  const out: string[] = [];
  for (const [name, s] of Object.entries(state.steps)) {
    if (!ACTIVE.has(s.status) || !s.batches) continue;
    const at = nextBatchRetryAt(s.batches, s.batchSlots);
    if (at !== undefined && at <= now) out.push(name);
  }
  return out;
}

export function isFinished(state: PlanState): boolean {
  return Object.values(state.steps).every((s) => TERMINAL.has(s.status));
}

/** The run's status from its steps. */
export function runStatus(state: PlanState): RunStatus {
  const steps = Object.values(state.steps);
  if (!isFinished(state))
    return steps.some((s) => s.status !== 'NotStarted' || s.attempt > 0) ? 'Running' : 'Queued';
  if (state.halted === 'canceled') return 'Canceled';
  if (steps.some((s) => s.status === 'Failed')) return 'Failed';
  if (steps.some((s) => s.status === 'Canceled')) return 'Canceled';
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
  prev: PlanState,
  step: string,
  failure: { code: JobFailureCode; message: string },
  policy: FailurePolicy,
): FailureEffect {
  const state = clone(prev);
  const s = state.steps[step]!;
  const decision = failureDecision(failure.code);
  if (!state.halted && decision.retryable && s.attempt <= policy.retries) {
    state.steps[step] = {
      status: 'NotStarted',
      attempt: s.attempt,
      retryAt: policy.now + retryBackoffMs(s.attempt),
      failure,
    };
    return { state, cancel: [], ended: [], retrying: true };
  }
  state.steps[step] = { ...s, status: decision.status, failure, retryAt: undefined, follow: undefined };
  const reason = `skipped because \`${step}\` ${decision.status === 'Canceled' ? 'was canceled' : 'failed'}`;
  for (const d of downstreamOf(graph, step))
    if (!TERMINAL.has(state.steps[d]!.status)) state.steps[d] = skipped(state.steps[d]!, reason);
  const cancel: string[] = [];
  const ended: string[] = [];
  if (!policy.continueOnStepFailure && !state.halted) {
    state.halted = 'failed';
    for (const name of graph.order) {
      const t = state.steps[name]!;
      if (ACTIVE.has(t.status)) {
        state.steps[name] = {
          ...t,
          status: 'Canceled',
          failure: { code: 'canceled', message: `canceled because \`${step}\` failed` },
        };
        ended.push(name);
        if (t.jobId || t.batches) cancel.push(name);
      } else if (t.status === 'NotStarted')
        state.steps[name] = skipped(t, `skipped because \`${step}\` failed`);
    }
  }
  return { state, cancel, ended, retrying: false };
}

/**
 * The run was canceled: active steps are Canceled, steps not started are Skipped. `cancel` names the
 * steps with jobs to stop; `ended` every active step it ended (a follower has no job, but a waiter).
 */
export function applyCancel(
  graph: StepGraph,
  prev: PlanState,
): { state: PlanState; cancel: string[]; ended: string[] } {
  const state = clone(prev);
  state.halted = 'canceled';
  const cancel: string[] = [];
  const ended: string[] = [];
  for (const name of graph.order) {
    const t = state.steps[name]!;
    if (ACTIVE.has(t.status)) {
      state.steps[name] = {
        ...t,
        status: 'Canceled',
        failure: { code: 'canceled', message: 'the run was canceled' },
      };
      ended.push(name);
      if (t.jobId || t.batches) cancel.push(name);
    } else if (t.status === 'NotStarted')
      state.steps[name] = skipped(t, 'skipped because the run was canceled');
  }
  return { state, cancel, ended };
}

export function applySuccess(
  prev: PlanState,
  step: string,
  status: 'Completed' | 'Reused',
  outputs: Record<string, StepOutputRef>,
): PlanState {
  const s = prev.steps[step]!;
  // A late success after the run halted (its cancel raced the finish) still counts: the outputs exist.
  // Only this step changes: the others are shared, not copied (every replay of a wide run calls this
  // once per finished step, so a full copy each time would cost steps² per replay).
  const steps = {
    ...prev.steps,
    [step]: { status, attempt: s.attempt, jobId: s.jobId, pool: s.pool, outputs },
  };
  return prev.halted ? { steps, halted: prev.halted } : { steps };
}

function skipped(s: StepState, message: string): StepState {
  return { status: 'Skipped', attempt: s.attempt, failure: { code: 'skipped', message } };
}

function clone(state: PlanState): PlanState {
  const steps: Record<string, StepState> = {};
  for (const [k, v] of Object.entries(state.steps)) steps[k] = { ...v };
  return state.halted ? { steps, halted: state.halted } : { steps };
}

// ---------------------------------------------------------------- compact transport

/**
 * The orchestration's history stores every activity input and output, and every episode replays it, so
 * the state crosses the activity boundary compactly: steps still at their initial value are left out of
 * inputs, and outputs carry only the steps that changed.
 */
export function compactState(state: PlanState): PlanState {
  const steps: Record<string, StepState> = {};
  for (const [k, v] of Object.entries(state.steps))
    if (!(v.status === 'NotStarted' && v.attempt === 0 && v.retryAt === undefined && !v.failure))
      steps[k] = v;
  return state.halted ? { steps, halted: state.halted } : { steps };
}

export function expandState(graph: StepGraph, compact: PlanState): PlanState {
  const steps: Record<string, StepState> = {};
  for (const n of graph.order) steps[n] = compact.steps[n] ?? { status: 'NotStarted', attempt: 0 };
  return compact.halted ? { steps, halted: compact.halted } : { steps };
}

export interface StateDelta {
  steps: Record<string, StepState>;
  /**
   * Batch steps (parallelRun mini-batches, sweep trials) whose only change is some of their batches:
   * step → batch index → batch. A completion then crosses the activity boundary as one batch, not the
   * step's whole list (10,000 mini-batches would otherwise make the history grow with their square).
   */
  batches?: Record<string, Record<number, BatchState>>;
  halted?: PlanState['halted'];
}

const same = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The step without its batches, to tell "only batches changed" from the rest. */
function withoutBatches(s: StepState): StepState {
  const { batches: _batches, ...rest } = s;
  return rest;
}

/** The steps whose state differs between `before` and `after` (same step set). */
export function stateDelta(before: PlanState, after: PlanState): StateDelta {
  const steps: Record<string, StepState> = {};
  let batches: StateDelta['batches'];
  // The planner shares unchanged steps (and batches) between states: most comparisons end at the reference.
  for (const [k, v] of Object.entries(after.steps)) {
    const b = before.steps[k];
    if (b === v) continue;
    if (
      b?.batches &&
      v.batches &&
      b.batches.length === v.batches.length &&
      same(withoutBatches(b), withoutBatches(v))
    ) {
      const changed: Record<number, BatchState> = {};
      let n = 0;
      v.batches.forEach((x, i) => {
        if (!same(b.batches![i], x)) {
          changed[i] = x;
          n++;
        }
      });
      if (n) (batches ??= {})[k] = changed;
    } else if (!same(b, v)) steps[k] = v;
  }
  const delta: StateDelta = { steps };
  if (batches) delta.batches = batches;
  if (after.halted && after.halted !== before.halted) delta.halted = after.halted;
  return delta;
}

export function applyDelta(state: PlanState, delta: StateDelta): PlanState {
  const next: PlanState = { ...state, steps: { ...state.steps, ...delta.steps } };
  for (const [k, changed] of Object.entries(delta.batches ?? {})) {
    const s = next.steps[k]!;
    const list = s.batches!.slice();
    for (const [i, b] of Object.entries(changed)) list[Number(i)] = b;
    next.steps[k] = { ...s, batches: list };
  }
  if (delta.halted) next.halted = delta.halted;
  return next;
}
