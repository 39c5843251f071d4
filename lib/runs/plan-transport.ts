import type { BatchState } from './parallel-plan';
import {
  NOT_STARTED,
  changedSince,
  setHalted,
  setStep,
  type PlanState,
  type StepGraph,
  type StepState,
} from './plan-state';

/**
 * The plan crossing the activity boundary. The orchestration's history stores every activity input and
 * output, and every episode replays it, so the state crosses compactly: steps still at their initial value
 * are left out of whole states, and each side sends only what changed since the other last heard
 * (`pendingDelta`, from the change marks `setStep` keeps, so building it visits only the changed steps).
 */

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

const initial = (v: StepState): boolean =>
  v.status === 'NotStarted' && v.attempt === 0 && v.retryAt === undefined && !v.failure;

export function compactState(state: PlanState): PlanState {
  const steps: Record<string, StepState> = {};
  for (const [k, v] of Object.entries(state.steps)) if (!initial(v)) steps[k] = v;
  return state.halted ? { steps, halted: state.halted } : { steps };
}

export function expandState(graph: StepGraph, compact: PlanState): PlanState {
  const steps: Record<string, StepState> = {};
  for (const n of graph.order) steps[n] = compact.steps[n] ?? NOT_STARTED;
  return compact.halted ? { steps, halted: compact.halted } : { steps };
}

const same = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The step without its batches, to tell "only batches changed" from the rest. */
function withoutBatches(s: StepState): StepState {
  const { batches: _batches, ...rest } = s;
  return rest;
}

/** What changed in `state` since it was last settled: only the steps `setStep` marked are compared. */
export function pendingDelta(state: PlanState): StateDelta {
  const changed = changedSince(state);
  const steps: Record<string, StepState> = {};
  let batches: StateDelta['batches'];
  for (const [k, b] of changed.steps) {
    const v = state.steps[k]!;
    if (b === v) continue;
    if (
      b?.batches &&
      v.batches &&
      b.batches.length === v.batches.length &&
      same(withoutBatches(b), withoutBatches(v))
    ) {
      // The planner shares unchanged batches between lists: most comparisons end at the reference.
      const diff: Record<number, BatchState> = {};
      let n = 0;
      v.batches.forEach((x, i) => {
        if (!same(b.batches![i], x)) {
          diff[i] = x;
          n++;
        }
      });
      if (n) (batches ??= {})[k] = diff;
    } else if (!same(b, v)) steps[k] = v;
  }
  const delta: StateDelta = { steps };
  if (batches) delta.batches = batches;
  if (changed.halted && state.halted && state.halted !== changed.halted.value) delta.halted = state.halted;
  return delta;
}

/** Applies what the other side changed (in place; the caller settles when it has accounted for it). */
export function applyDelta(state: PlanState, delta: StateDelta): PlanState {
  for (const [k, v] of Object.entries(delta.steps)) setStep(state, k, v);
  for (const [k, changed] of Object.entries(delta.batches ?? {})) {
    const s = state.steps[k]!;
    const list = s.batches!.slice();
    for (const [i, b] of Object.entries(changed)) list[Number(i)] = b;
    setStep(state, k, { ...s, batches: list });
  }
  if (delta.halted) setHalted(state, delta.halted);
  return state;
}
