import type { JobFailureCode, JobSpec } from '../../compute/job';
import { parseBinding, stepInputBindings } from '../../pipelines/graph';
import type { StepDefinition } from '../../pipelines/steps-schema';
import type { CacheComponents, CacheDecision } from '../cache-key';
import type { BatchState } from '../parallel-plan';
import type { PlanState, StepOutputRef, StepState } from '../plan';
import type { RunContext } from '../run-context';
import type { RunDeps } from '../run-deps';
import type { RunDoc, StepRecord } from '../store';

/** What dispatching one step decided: the advance folds these into the plan and the step records. */
export type Dispatch =
  | { kind: 'reused'; step: string; outputs: Record<string, StepOutputRef>; record: StepRecord }
  /** Ran inside this activity (dataTransfer), or a batch step gathered: no job left, finished. */
  | { kind: 'done'; step: string; outputs: Record<string, StepOutputRef>; record: StepRecord }
  | { kind: 'queued'; step: string; state: StepState; record: StepRecord }
  | { kind: 'failed'; step: string; failure: { code: JobFailureCode; message: string }; record: StepRecord };

/**
 * Everything one step's dispatch works with: the one context object every step kind's dispatch and
 * continue take (instead of long positional parameter lists).
 */
export interface StepDispatch {
  deps: RunDeps;
  run: RunContext;
  /** The plan as it stands in this advance (upstream outputs). */
  state: PlanState;
  step: string;
  def: StepDefinition;
  /** The step's plan state before this dispatch. */
  prev: StepState;
  /** The record fields a dispatch decides (cleared from the previous attempt). */
  base: StepRecord;
  now: number;
  /** Side effects the advance awaits together with its write. */
  pending: Array<Promise<unknown>>;
  /** The step fails with this failure (no job). */
  fail(code: JobFailureCode, message: string): Dispatch;
}

/** A step whose key says it must run: what its kind needs to start it. */
export interface Prepared {
  key: string;
  components: CacheComponents;
  decision: CacheDecision;
  inputs: InputRefs;
  /** The job a command would be (kinds with batches derive their batch jobs from it). */
  spec: JobSpec;
  /** The step may reuse, so it holds a single-flight claim while it computes. */
  claimed: boolean;
}

export type InputRefs = Record<string, { hash: string; type: 'file' | 'directory' }>;

/** What a batch step hands to its batch jobs: the fields of the job each batch overrides. */
export type BatchJob = (
  b: BatchState,
) => Partial<Pick<JobSpec, 'inputs' | 'command' | 'args' | 'env' | 'outputs' | 'timeoutMs'>>;

/** The job every batch of a step starts from (no id, attempt or per-batch input yet). */
export type BatchJobBase = Omit<JobSpec, 'jobId' | 'attempt' | 'inputs' | 'notify'> & {
  inputs: JobSpec['inputs'];
};

/** A batch step's outcome once every batch is settled and the verdict allows it. */
export interface Finished {
  outputs: Record<string, StepOutputRef>;
  metrics?: StepRecord['metrics'];
  bestTrial?: StepRecord['bestTrial'];
  leaderboard?: StepRecord['leaderboard'];
}

/**
 * A step kind that runs as batches of jobs (parallelRun mini-batches, sweep trials, AutoML families):
 * the common machinery (kinds/batches.ts) asks it these, and nothing else differs between them.
 */
export interface BatchKind {
  /** How many of its batch jobs run at once. */
  slots(def: StepDefinition, doc: RunDoc): number;
  /** Finally failed batches tolerated (-1: any number). */
  threshold(def: StepDefinition): number;
  /** A tolerated failure leaves the outputs partial: no cache entry, so a later run tries again. */
  partialOnFailure: boolean;
  /** The batches of a first dispatch, and how each batch's job differs from the step's. */
  first(
    d: StepDispatch,
    spec: JobSpec,
    inputs: InputRefs,
  ): Promise<{ batches: BatchState[]; job?: BatchJob }>;
  /**
   * After a batch ended: the batches to go on with (and their jobs), a failure, or `undefined` when the
   * step is ready to finish. The default goes on while any batch is unsettled.
   */
  more?(
    d: StepDispatch,
    batches: BatchState[],
    done: boolean,
    base: () => Promise<BatchJobBase>,
  ): Promise<{ batches: BatchState[]; job?: BatchJob } | Dispatch | undefined>;
  /** Every batch settled within the threshold: the step's outputs (or a failure). */
  finish(d: StepDispatch, batches: BatchState[]): Promise<Finished | Dispatch>;
}

export function isDispatch(x: unknown): x is Dispatch {
  return typeof x === 'object' && x !== null && 'kind' in x && 'step' in x && 'record' in x;
}

/** The step's inputs by content hash, or the message naming the input that has no data. */
export function resolveInputs(
  doc: RunDoc,
  state: PlanState,
  def: StepDefinition,
  step: string,
): InputRefs | string {
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

/** The cache record of a step that runs: its key, why it runs, and what changed since the last time. */
export function ranBecause(
  key: string,
  decision: CacheDecision,
  components: CacheComponents,
): StepRecord['cache'] {
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
