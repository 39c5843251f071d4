import type { JobFailureCode } from '../compute/job';
import type { BatchState } from './parallel-plan';

/**
 * The plan's state and the one place it changes. Every change of a step goes through `setStep` (and of
 * `halted` through `setHalted`), which keeps two things beside the state, so that nothing the planner
 * does per event visits every step:
 * - an **index**: the active steps, the counts `isFinished` and `runStatus` read, the steps waiting on a
 *   retry, and (once `readySteps` has seen the graph) each step's unmet dependencies and the ready
 *   frontier in graph order;
 * - **change marks**: each step's value when it was first changed since the last `settle`, from which
 *   `pendingDelta` says what changed.
 * Both are built on first use by one pass over the steps (a state that arrived as JSON has none), and kept
 * in a WeakMap, so the state itself stays a plain serialisable object.
 *
 * A state is updated in place and owned by one holder (the orchestration's loop, or the advance
 * activity): functions that change it return it, and callers keep only that. A `StepState` object is
 * never modified, only replaced: they are shared with the inputs and histories they came from.
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

/** The value of every step that has not started: shared, and frozen so that nobody edits it in place. */
export const NOT_STARTED: StepState = Object.freeze({ status: 'NotStarted', attempt: 0 }) as StepState;

/** The ready frontier: bound to one graph. */
interface ReadyIndex {
  graph: StepGraph;
  pos: ReadonlyMap<string, number>;
  /** Step → how many of its dependencies have not succeeded. */
  unmet: Map<string, number>;
  /** Positions (graph order) of steps not started whose dependencies all succeeded, ascending. */
  frontier: number[];
}

interface Meta {
  total: number;
  byStatus: Partial<Record<StepStatus, number>>;
  terminal: number;
  failed: number;
  canceled: number;
  /** Steps that ever started (status past NotStarted, or an attempt made). */
  started: number;
  active: Set<string>;
  /** Steps not started with a retry back-off, and active batch steps: where a retry time can come from. */
  retrying: Set<string>;
  batchActive: Set<string>;
  ready?: ReadyIndex;
  /** Step → its value at its first change since the last `settle`. */
  baseline: Map<string, StepState | undefined>;
  /** `halted` at its first change since the last `settle` (absent: unchanged). */
  haltedBaseline?: { value: PlanState['halted'] };
}

const metas = new WeakMap<PlanState, Meta>();
const positions = new WeakMap<StepGraph, Map<string, number>>();

function count(m: Meta, s: StepState | undefined, name: string, sign: 1 | -1): void {
  if (!s) return;
  const add = (set: Set<string>): void => void (sign > 0 ? set.add(name) : set.delete(name));
  m.total += sign;
  m.byStatus[s.status] = (m.byStatus[s.status] ?? 0) + sign;
  if (TERMINAL.has(s.status)) m.terminal += sign;
  if (s.status === 'Failed') m.failed += sign;
  if (s.status === 'Canceled') m.canceled += sign;
  if (s.status !== 'NotStarted' || s.attempt > 0) m.started += sign;
  if (ACTIVE.has(s.status)) {
    add(m.active);
    if (s.batches) add(m.batchActive);
  } else if (s.status === 'NotStarted' && s.retryAt !== undefined) add(m.retrying);
}

function meta(state: PlanState): Meta {
  let m = metas.get(state);
  if (!m) {
    m = {
      total: 0,
      byStatus: {},
      terminal: 0,
      failed: 0,
      canceled: 0,
      started: 0,
      active: new Set(),
      retrying: new Set(),
      batchActive: new Set(),
      baseline: new Map(),
    };
    for (const [name, s] of Object.entries(state.steps)) count(m, s, name, 1);
    metas.set(state, m);
  }
  return m;
}

/** Sets one step's state (in place), keeping the index and change marks. Returns `state`. */
export function setStep(state: PlanState, name: string, next: StepState): PlanState {
  const m = meta(state);
  const prev = state.steps[name];
  if (prev === next) return state;
  if (!m.baseline.has(name)) m.baseline.set(name, prev);
  count(m, prev, name, -1);
  state.steps[name] = next;
  count(m, next, name, 1);
  if (m.ready) moveFrontier(m.ready, state, name, prev, next);
  return state;
}

export function setHalted(state: PlanState, halted: NonNullable<PlanState['halted']>): PlanState {
  const m = meta(state);
  if (state.halted === halted) return state;
  m.haltedBaseline ??= { value: state.halted };
  state.halted = halted;
  return state;
}

// ---------------------------------------------------------------- the ready frontier

function graphPositions(graph: StepGraph): Map<string, number> {
  let pos = positions.get(graph);
  if (!pos) {
    pos = new Map(graph.order.map((n, i) => [n, i]));
    positions.set(graph, pos);
  }
  return pos;
}

/** Index of `p` in the ascending `list`, or where it would go. */
function search(list: number[], p: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function placeInFrontier(r: ReadyIndex, state: PlanState, name: string): void {
  const p = r.pos.get(name);
  if (p === undefined) return;
  const want = state.steps[name]?.status === 'NotStarted' && r.unmet.get(name) === 0;
  const i = search(r.frontier, p);
  const has = r.frontier[i] === p;
  if (want && !has) r.frontier.splice(i, 0, p);
  else if (!want && has) r.frontier.splice(i, 1);
}

function moveFrontier(
  r: ReadyIndex,
  state: PlanState,
  name: string,
  prev: StepState | undefined,
  next: StepState,
): void {
  const was = !!prev && SUCCEEDED.has(prev.status);
  const is = SUCCEEDED.has(next.status);
  if (was !== is)
    for (const d of r.graph.dependants[name] ?? []) {
      r.unmet.set(d, (r.unmet.get(d) ?? 0) + (is ? -1 : 1));
      placeInFrontier(r, state, d);
    }
  placeInFrontier(r, state, name);
}

function readyIndex(state: PlanState, graph: StepGraph): ReadyIndex {
  const m = meta(state);
  if (m.ready?.graph === graph) return m.ready;
  const pos = graphPositions(graph);
  const unmet = new Map<string, number>();
  const frontier: number[] = [];
  graph.order.forEach((name, i) => {
    let n = 0;
    for (const d of graph.deps[name]!) if (!SUCCEEDED.has(state.steps[d]!.status)) n++;
    unmet.set(name, n);
    if (n === 0 && state.steps[name]!.status === 'NotStarted') frontier.push(i);
  });
  m.ready = { graph, pos, unmet, frontier };
  return m.ready;
}

/**
 * Positions (in `graph.order`) of the steps not started whose dependencies all succeeded, ascending. The
 * live list: read it before the next change of the state.
 */
export function readyFrontier(state: PlanState, graph: StepGraph): readonly number[] {
  return readyIndex(state, graph).frontier;
}

// ---------------------------------------------------------------- summaries

export interface PlanSummary {
  total: number;
  /** Steps by status (a status no step has may be absent or 0). */
  byStatus: Readonly<Partial<Record<StepStatus, number>>>;
  terminal: number;
  failed: number;
  canceled: number;
  started: number;
  active: ReadonlySet<string>;
  retrying: ReadonlySet<string>;
  batchActive: ReadonlySet<string>;
}

export function summary(state: PlanState): PlanSummary {
  return meta(state);
}

/** The active steps in graph order. */
export function activeSteps(state: PlanState, graph: StepGraph): string[] {
  const pos = graphPositions(graph);
  return [...meta(state).active].sort((a, b) => (pos.get(a) ?? 0) - (pos.get(b) ?? 0));
}

// ---------------------------------------------------------------- change marks

/** Each changed step's value before its first change since the last `settle`, and `halted`'s. */
export function changedSince(state: PlanState): {
  steps: ReadonlyMap<string, StepState | undefined>;
  halted?: { value: PlanState['halted'] };
} {
  const m = meta(state);
  return m.haltedBaseline ? { steps: m.baseline, halted: m.haltedBaseline } : { steps: m.baseline };
}

/** Everything changed so far is accounted for (sent, or received from the other side). */
export function settle(state: PlanState): PlanState {
  const m = meta(state);
  m.baseline.clear();
  delete m.haltedBaseline;
  return state;
}
