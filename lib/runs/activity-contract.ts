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
  /** Set when the orchestration continued as new (its history is bounded): where the plan stood. */
  resume?: ResumePoint;
  /** Advances per generation before continuing as new. @default 40 (tests set fewer) */
  generationAdvances?: number;
}

/** What a new generation of the run orchestration carries over from the one before. */
export interface ResumePoint {
  /** Compact plan state (steps at their initial value left out). */
  state: PlanState;
  /** Advances so far: the activity's cached copy of the plan is at this sequence number. */
  seq: number;
  idlePolls: number;
  /** The cancel event was seen (a second one changes nothing). */
  canceled: boolean;
  generation: number;
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
  /**
   * The plan crosses the boundary as a delta, so an advance's input does not grow with the run: `seq`
   * names the plan the previous advance returned, `changes` what happened to it since. The activity
   * keeps that plan in memory; when it has not (another process, a restart) it answers `needState`
   * and the orchestration sends the whole plan in `state`.
   */
  seq: number;
  changes: StateDelta;
  /** The whole plan (compact): on the first call, and when the activity asked for it. */
  state?: PlanState;
  dispatch: string[];
  observations: StepObservation[];
  /** Jobs to cancel (a failure halted the run, or the run was canceled). */
  cancel: Array<{ step: string; jobId: string }>;
  /** Steps that ended without a result: their claims and waiter registrations are released. */
  ended?: EndedStep[];
  /** Set on the first call: the run turns Running. */
  starting?: boolean;
}

export type AdvanceOutput =
  | {
      /** The steps this call changed (the caller applies it with `applyDelta`). */
      delta: StateDelta;
      finished: boolean;
    }
  /** The activity does not hold the plan at `seq`: call again with the whole plan. */
  | { needState: true };

export interface PollInput {
  runId: string;
  jobs: Array<{ step: string; runId: string; jobId: string; follow?: { runId: string; step: string } }>;
}

export type PollResult =
  | { step: string; jobId: string; result: JobResult; followed?: { runId: string; step: string } }
  /** The followed job ended without outputs to share: run the step here. */
  | { step: string; jobId: string; followFailed: true };
