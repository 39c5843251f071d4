import type { JobFailureCode, JobResult } from '../compute/job';
import {
  followEventName as followEvent,
  jobEventName as jobEvent,
  type AdvanceInput,
  type AdvanceOutput,
  type EndedStep,
  type OrchestrationInput,
  type PollInput,
  type PollResult,
  type StepObservation,
} from './activity-contract';
import { batchFailed, batchJobId, batchSucceeded, parseBatchJobId } from './parallel-plan';
import {
  ACTIVE,
  activeSteps,
  applyCancel,
  applyDelta,
  applyFailure,
  applySuccess,
  compactState,
  dueBatchRetries,
  expandState,
  isFinished,
  initialState,
  nextRetryAt,
  pendingDelta,
  pollDelayMs,
  readySteps,
  runStatus,
  setHalted,
  settle,
  setStep,
  type PlanState,
  type RunStatus,
  type StepOutputRef,
  type StepState,
} from './plan';

/**
 * The run orchestration's decisions, as pure functions over one value (`Loop`): what to do with a job's
 * result, a cancel or a quiet timer, and what to yield next. The orchestrator (orchestrator.ts) only
 * yields what `nextMove` says and feeds back what came in, so:
 * - **liveness holds by construction**: `nextMove` returns a task to yield or the end, never "go round
 *   again"; any change of the plan (`dirty`) is persisted by an advance before the next wait;
 * - **a replay reaches the same decisions**: nothing here reads a clock or does I/O;
 * - the model-based test (test/unit/runs/orchestration-model.test.ts) drives these functions with the
 *   real orchestrator through random event sequences.
 */

export interface Loop {
  state: PlanState;
  /** Steps to dispatch (or continue: a batch step whose batch ended) in the next advance. */
  dispatch: string[];
  observations: StepObservation[];
  cancel: Array<{ step: string; jobId: string }>;
  ended: EndedStep[];
  /** The first advance has not run yet. */
  starting: boolean;
  /** The plan changed since the last advance (which must persist it before anything waits). */
  dirty: boolean;
  /** Polls in a row that found nothing new (the safety-net poll slows down). */
  idlePolls: number;
  /** Advances done (the sequence number of the plan the activity holds). */
  seq: number;
  /** The activity does not hold the plan as the last advance left it: send the whole plan. */
  needFull: boolean;
  /** Advances in this generation of the orchestration (it continues as new after `GENERATION_ADVANCES`). */
  advances: number;
  /** The cancel event was applied. */
  canceled: boolean;
  /**
   * A new generation's first wait polls at once: an event raised while the previous generation ended
   * (after its last episode began, before it continued as new) is not carried over, and would otherwise
   * wait for the safety-net poll.
   */
  pollNow?: boolean;
}

/**
 * Advances per generation: then the orchestration continues as new, carrying the plan, so the history
 * an episode replays stays bounded whatever the size of the run.
 */
export const GENERATION_ADVANCES = 40;

/**
 * The generation length for a run (the definition may set it, as tests do). The same for every run size:
 * replaying an advance costs the planner what that advance changed, not a pass over every step, so a
 * large run needs no shorter generations (each continue-as-new carries the compact plan, a pass over it).
 */
export function generationLength(input: Pick<OrchestrationInput, 'generationAdvances'>): number {
  return input.generationAdvances ?? GENERATION_ADVANCES;
}

/** What one wait listens for besides the cancel event and the timer. */
export interface Wait {
  /** The durable event's name. */
  event: string;
  step: string;
  jobId: string;
  followed?: { runId: string; step: string };
}

export type Move =
  | { kind: 'advance'; request: AdvanceInput }
  | { kind: 'wait'; waits: Wait[]; fireAt: number; poll: PollInput['jobs'] }
  | { kind: 'finish'; status: RunStatus };

export function startLoop(input: OrchestrationInput, now: number): Loop {
  const r = input.resume;
  const state = r ? expandState(input.graph, r.state) : initialState(input.graph);
  const loop: Loop = {
    state,
    dispatch: [],
    observations: [],
    cancel: [],
    ended: [],
    starting: !r,
    dirty: !r,
    idlePolls: r?.idlePolls ?? 0,
    seq: r?.seq ?? 0,
    needFull: !r,
    advances: 0,
    canceled: r?.canceled ?? false,
    ...(r ? { pollNow: true } : {}),
  };
  replan(input, loop, now);
  return loop;
}

/** Where a new generation picks up (the input of `continueAsNew`). */
export function resumePoint(input: OrchestrationInput, loop: Loop): OrchestrationInput {
  return {
    ...input,
    resume: {
      state: compactState(loop.state),
      seq: loop.seq,
      idlePolls: loop.idlePolls,
      canceled: loop.canceled,
      generation: (input.resume?.generation ?? 0) + 1,
    },
  };
}

/** Time to continue as new: enough advances in this generation, and nothing pending. */
export function timeForNewGeneration(input: OrchestrationInput, loop: Loop): boolean {
  return loop.advances >= generationLength(input) && !loop.dirty;
}

/** The jobs a step has running: its own, or one per running mini-batch (trial). */
export function jobsOf(state: PlanState, step: string): string[] {
  const s = state.steps[step];
  return s ? jobsOfStep(step, s) : [];
}

function jobsOfStep(step: string, s: StepState): string[] {
  if (s.batches)
    return s.batches.flatMap((b, i) => (b.status === 'Running' ? [batchJobId(step, i, b.attempt)] : []));
  return s.jobId ? [s.jobId] : [];
}

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

/** Steps a halt ended (`was`: each as it was before), with the jobs to stop and the claim or waiter each held. */
function endSteps(loop: Loop, was: Record<string, StepState>, steps: string[]): void {
  for (const step of steps) {
    const s = was[step];
    for (const jobId of s ? jobsOfStep(step, s) : []) loop.cancel.push({ step, jobId });
    loop.ended.push({ step, role: s?.follow ? 'follower' : 'holder' });
  }
}

/** Steps that became ready, and batch steps whose failed batch is due again, join the next dispatch. */
function replan(input: OrchestrationInput, loop: Loop, now: number): void {
  const add = (s: string): void => {
    if (!loop.dispatch.includes(s)) loop.dispatch.push(s);
  };
  for (const s of readySteps(input.graph, loop.state, input.maxConcurrency, now)) add(s);
  for (const s of dueBatchRetries(loop.state, now)) add(s);
  if (loop.dispatch.length) loop.dirty = true;
}

/** A job's result (event or poll), a followed holder's outcome, or a batch's end. */
export function onResult(input: OrchestrationInput, prev: Loop, r: PollResult, now: number): Loop {
  const loop = copy(prev);
  const s = loop.state.steps[r.step];
  if (!s || !ACTIVE.has(s.status)) return prev; // already decided (canceled, or a duplicate report)
  if ('followFailed' in r || (r.followed && r.result.state !== 'succeeded')) {
    if (!s.follow || s.follow.jobId !== r.jobId) return prev;
    // The run we waited for did not produce the outputs: compute them here (a fresh claim). Its waiter
    // registration was consumed when the holder told us (or is dropped with the claim's partition).
    loop.state = setStep(loop.state, r.step, { status: 'NotStarted', attempt: s.attempt });
    loop.dirty = true;
  } else if (s.batches) {
    const id = parseBatchJobId(r.step, r.jobId);
    const b = id && s.batches[id.index];
    if (!id || !b || b.status !== 'Running' || b.attempt !== id.attempt) return prev;
    const batches = s.batches.slice();
    batches[id.index] =
      r.result.state === 'succeeded'
        ? batchSucceeded(b, r.result.miniBatches)
        : batchFailed(b, failureOf(r.result), input.retries[r.step] ?? 0, now);
    loop.state = setStep(loop.state, r.step, { ...s, batches });
    // The advance starts the next batches or gathers the step's outputs.
    if (!loop.dispatch.includes(r.step)) loop.dispatch.push(r.step);
    loop.dirty = true;
  } else {
    if (!r.followed && s.jobId !== r.jobId) return prev; // a stale attempt
    if (r.followed && (!s.follow || s.follow.jobId !== r.jobId)) return prev; // not (or no longer) this holder
    loop.observations.push({
      step: r.step,
      jobId: r.jobId,
      result: r.result,
      ...(r.followed ? { followed: r.followed } : {}),
    });
    loop.dirty = true;
    if (r.result.state === 'succeeded')
      loop.state = applySuccess(loop.state, r.step, r.followed ? 'Reused' : 'Completed', outputsOf(r.result));
    else {
      const eff = applyFailure(input.graph, loop.state, r.step, failureOf(r.result), {
        retries: input.retries[r.step] ?? 0,
        continueOnStepFailure: input.continueOnStepFailure,
        now,
      });
      loop.state = eff.state;
      endSteps(loop, eff.was, eff.ended);
    }
  }
  replan(input, loop, now);
  return loop;
}

/** The run's cancel event: everything active is Canceled (and stopped), nothing new starts. */
export function onCancel(input: OrchestrationInput, prev: Loop): Loop {
  const loop = copy(prev);
  const c = applyCancel(input.graph, loop.state);
  endSteps(loop, c.was, c.ended);
  loop.state = c.state;
  loop.dispatch = [];
  loop.dirty = true;
  loop.canceled = true;
  return loop;
}

/** The timer fired (a poll, or a retry's back-off ended): the poll's results follow through `onResult`. */
export function onTimer(input: OrchestrationInput, prev: Loop, now: number): Loop {
  const loop = { ...copy(prev), idlePolls: prev.idlePolls + 1 };
  replan(input, loop, now);
  return loop;
}

/** An event or a poll brought news: the next poll is soon again. */
export function onNews(prev: Loop): Loop {
  return prev.idlePolls === 0 ? prev : { ...prev, idlePolls: 0 };
}

/** The advance persisted everything pending and dispatched: apply what it changed. */
export function afterAdvance(input: OrchestrationInput, prev: Loop, out: AdvanceOutput, now: number): Loop {
  // The activity lost its copy of the plan: the same call again, with the whole plan.
  if ('needState' in out) return { ...prev, needFull: true };
  // Both sides now hold the same plan: what this side changed was sent, what the activity changed is here.
  const state = settle(applyDelta(prev.state, out.delta));
  const loop: Loop = {
    ...prev,
    state,
    seq: prev.seq + 1,
    needFull: false,
    advances: prev.advances + 1,
    dispatch: [],
    observations: [],
    cancel: [],
    ended: [],
    starting: false,
    dirty: false,
  };
  if (!out.finished) replan(input, loop, now);
  return loop;
}

/**
 * What to yield next. Never "nothing": pending work is an advance; a plan with nothing active and no
 * retry to wait for is closed (its unreachable steps are skipped) through an advance too, which says the
 * run finished; otherwise a wait on the active jobs, the cancel event and one timer.
 */
export function nextMove(
  input: OrchestrationInput,
  prev: Loop,
  now: number,
  finished = false,
): {
  move: Move;
  loop: Loop;
} {
  if (finished) return { move: { kind: 'finish', status: runStatus(prev.state) }, loop: prev };
  let loop = prev;
  const active = activeSteps(loop.state, input.graph);
  if (!loop.dirty && active.length === 0 && nextRetryAt(loop.state) === undefined) {
    // Nothing runs and nothing waits for a retry. Either every step is final (the advance that follows
    // says the run finished), or the remaining steps are unreachable: close them rather than hang.
    loop = copy(loop);
    if (!isFinished(loop.state)) {
      const halted = loop.state.halted ?? 'failed';
      loop.state = setHalted(applyCancel(input.graph, loop.state).state, halted);
    }
    loop.dirty = true;
  }
  if (loop.dirty || loop.starting) {
    const request: AdvanceInput = {
      runId: input.runId,
      now,
      seq: loop.seq,
      changes: pendingDelta(loop.state),
      ...(loop.needFull ? { state: compactState(loop.state) } : {}),
      dispatch: loop.dispatch.filter(
        (s) => loop.state.steps[s]!.status === 'NotStarted' || ACTIVE.has(loop.state.steps[s]!.status),
      ),
      observations: loop.observations,
      cancel: loop.cancel,
      ...(loop.ended.length ? { ended: loop.ended } : {}),
      ...(loop.starting ? { starting: true } : {}),
    };
    return { move: { kind: 'advance', request }, loop };
  }
  const retryAt = nextRetryAt(loop.state);
  const waits: Wait[] = [];
  const poll: PollInput['jobs'] = [];
  for (const step of active) {
    const s = loop.state.steps[step]!;
    if (s.follow) {
      const followed = { runId: s.follow.runId, step: s.follow.step };
      waits.push({
        event: followEvent(s.follow.runId, s.follow.jobId),
        step,
        jobId: s.follow.jobId,
        followed,
      });
      poll.push({ step, runId: s.follow.runId, jobId: s.follow.jobId, follow: followed });
    } else
      for (const jobId of jobsOf(loop.state, step)) {
        waits.push({ event: jobEvent(jobId), step, jobId });
        poll.push({ step, runId: input.runId, jobId });
      }
  }
  let fireAt = loop.pollNow ? now : now + pollDelayMs(loop.idlePolls);
  if (retryAt !== undefined) fireAt = Math.min(fireAt, Math.max(retryAt, now));
  return {
    move: { kind: 'wait', waits, fireAt, poll },
    loop: loop.pollNow ? { ...loop, pollNow: false } : loop,
  };
}

function copy(l: Loop): Loop {
  return {
    ...l,
    dispatch: [...l.dispatch],
    observations: [...l.observations],
    cancel: [...l.cancel],
    ended: [...l.ended],
  };
}
