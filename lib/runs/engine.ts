import type { AdvanceInput, AdvanceOutput, PollInput, PollResult } from './activity-contract';
import { advance as advanceRun } from './advance';
import { abortRun as abort } from './finish';
import { poll as pollJobs } from './poll';
import { runDeps, type RaiseEvent } from './run-deps';

/**
 * The run engine's façade: the three activities of the run orchestration, each building the one
 * dependency bundle (run-deps.ts) and handing it to the part that does the work:
 * - `advance` (advance.ts): persist what happened, dispatch ready steps (dispatch.ts, kinds/), cascade;
 * - `poll` (poll.ts): read job rows when an event may have been lost;
 * - `abortRun` (finish.ts): end a run whose orchestration cannot go on.
 */

export type {
  AdvanceInput,
  AdvanceOutput,
  OrchestrationInput,
  PollInput,
  PollResult,
  StepObservation,
} from './activity-contract';
export type { RaiseEvent } from './run-deps';

export function advance(
  input: AdvanceInput,
  log: (m: string) => void = () => {},
  raise?: RaiseEvent,
): Promise<AdvanceOutput> {
  return advanceRun(runDeps({ log, ...(raise ? { raise } : {}) }), input);
}

export function poll(input: PollInput): Promise<PollResult[]> {
  return pollJobs(runDeps(), input);
}

export function abortRun(input: { runId: string; message: string }): Promise<void> {
  return abort(runDeps(), input);
}
