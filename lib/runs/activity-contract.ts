import type { JobResult } from '../compute/job';
import type { PlanState, StateDelta, StepGraph } from './plan';

/**
 * The contract between the run orchestration (deterministic, replayed) and its activities (I/O): the
 * names both sides use and the shapes that cross the boundary. The orchestrator and the activities
 * import this module; neither imports the other.
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

export interface OrchestrationInput {
  runId: string;
  graph: StepGraph;
  maxConcurrency: number;
  continueOnStepFailure: boolean;
  /** Step → retries allowed. */
  retries: Record<string, number>;
}

/** Something observed about a step's job, to persist with the state it led to. */
export interface StepObservation {
  step: string;
  jobId: string;
  result: JobResult;
  /** Single-flight: the result belongs to another run's job this step followed. */
  followed?: { runId: string; step: string };
}

/**
 * A step that ended without a result of its own (the run was canceled, or another step's failure halted
 * it): its single-flight claim (holder) or its registration as a waiter (follower) must go with it.
 */
export interface EndedStep {
  step: string;
  role: 'holder' | 'follower';
}

export interface AdvanceInput {
  runId: string;
  /** The orchestration's deterministic "now" (epoch ms). */
  now: number;
  state: PlanState;
  dispatch: string[];
  observations: StepObservation[];
  /** Jobs to cancel (a failure halted the run, or the run was canceled). */
  cancel: Array<{ step: string; jobId: string }>;
  /** Steps that ended without a result: their claims and waiter registrations are released. */
  ended?: EndedStep[];
  /** Set on the first call: the run turns Running. */
  starting?: boolean;
}

export interface AdvanceOutput {
  /** The steps this call changed (the caller applies it with `applyDelta`). */
  delta: StateDelta;
  finished: boolean;
}

export interface PollInput {
  runId: string;
  jobs: Array<{ step: string; runId: string; jobId: string; follow?: { runId: string; step: string } }>;
}

export type PollResult =
  | { step: string; jobId: string; result: JobResult; followed?: { runId: string; step: string } }
  /** The followed job ended without outputs to share: run the step here. */
  | { step: string; jobId: string; followFailed: true };
