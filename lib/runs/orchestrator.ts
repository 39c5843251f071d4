import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { JobResult } from '../compute/job';
import {
  ABORT_ACTIVITY,
  ADVANCE_ACTIVITY,
  CANCEL_EVENT,
  POLL_ACTIVITY,
  type AdvanceOutput,
  type OrchestrationInput,
  type PollInput,
  type PollResult,
} from './activity-contract';
import {
  afterAdvance,
  nextMove,
  onCancel,
  onNews,
  onResult,
  onTimer,
  resumePoint,
  startLoop,
  timeForNewGeneration,
  type Wait,
} from './orchestration-loop';
import type { RunStatus } from './plan';

export {
  ABORT_ACTIVITY,
  ADVANCE_ACTIVITY,
  CANCEL_EVENT,
  POLL_ACTIVITY,
  RUN_ORCHESTRATION,
  followEventName,
  jobEventName,
} from './activity-contract';

/**
 * The run orchestration: every step of a run inside ONE orchestration (see lib/runs/README.md for why
 * not a sub-orchestration per step). A thin loop of yields: each decision is `orchestration-loop.ts`'s
 * (pure), each I/O one of three activities:
 * - `runs-advance`: persist what happened, dispatch ready steps (cascading through Reused ones);
 * - `runs-poll`: read job rows when the timer fires (a lost event costs seconds, not the run);
 * - `runs-abort`: end the run Failed when an activity kept failing.
 * It waits for any job's completion event, the run's `cancel` event, or one timer (poll / retry back-off).
 * Every pass of the loop yields a task or returns: `nextMove` never answers "nothing to do".
 */

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
  const now = (): number => context.df.currentUtcDateTime.getTime();
  let loop = startLoop(input, now());
  let finished = false;
  // One task per awaited event, kept until its event arrives. A new `waitForExternalEvent` each time
  // round would lose events: one raised while an activity runs goes to the oldest open task of that
  // name, which an earlier `Task.any` already left behind. The cancel event likewise has one task.
  const events = new Map<string, { task: Task; wait: Wait }>();
  let cancelTask: Task | undefined;

  /** Applies everything that has arrived (in a fixed order, so replays agree); true when anything had. */
  const applyArrived = (): boolean => {
    let any = false;
    if (cancelTask?.isCompleted && !loop.canceled) {
      any = true;
      loop = onCancel(input, loop);
    }
    for (const [name, { task, wait: w }] of events) {
      if (!task.isCompleted) continue;
      events.delete(name);
      any = true;
      loop = onNews(loop);
      loop = onResult(
        input,
        loop,
        {
          step: w.step,
          jobId: w.jobId,
          result: task.result as JobResult,
          ...(w.followed ? { followed: w.followed } : {}),
        },
        now(),
      );
    }
    return any;
  };

  for (;;) {
    const next = nextMove(input, loop, now(), finished);
    loop = next.loop;
    const move = next.move;
    if (move.kind === 'finish') return move.status;
    if (move.kind === 'advance') {
      const out = (yield context.df.callActivityWithRetry(
        ADVANCE_ACTIVITY,
        activityRetry(),
        move.request,
      )) as AdvanceOutput;
      finished = 'finished' in out && out.finished;
      loop = afterAdvance(input, loop, out, now());
      continue;
    }
    cancelTask ??= context.df.waitForExternalEvent(CANCEL_EVENT);
    for (const w of move.waits)
      if (!events.has(w.event))
        events.set(w.event, { task: context.df.waitForExternalEvent(w.event), wait: w });
    // Events that arrived while an activity ran are applied without waiting (a completed task would never
    // wake a new Task.any).
    if (applyArrived()) continue;
    // The history an episode replays stays bounded: after enough advances, go on as a new generation
    // carrying the plan. Safe here: nothing is pending and every event that arrived has been applied.
    if (timeForNewGeneration(input, loop)) {
      context.df.continueAsNew(resumePoint(input, loop));
      return 'Running';
    }
    const timer = context.df.createTimer(new Date(move.fireAt));
    const watching = [cancelTask, timer, ...move.waits.map((w) => events.get(w.event)!.task)];
    const winner = (yield context.df.Task.any(watching)) as Task;
    if (winner === timer) {
      loop = onTimer(input, loop, now());
      if (move.poll.length) {
        const results = (yield context.df.callActivity(POLL_ACTIVITY, {
          runId: input.runId,
          jobs: move.poll,
        } satisfies PollInput)) as PollResult[];
        if (results.length) loop = onNews(loop);
        for (const r of results) loop = onResult(input, loop, r, now());
      }
    } else timer.cancel();
    applyArrived();
  }
}
