import type { JobResult } from '../compute/job';
import { followEventName, type EndedStep } from './activity-contract';
import type { CacheComponents } from './cache-key';
import { release, removeWaiter, takeWaiters, writeLatest } from './cache-store';
import type { RunContext } from './run-context';
import { iso, type RunDeps } from './run-deps';
import type { PlanState, StepOutputRef } from './plan';
import type { RunDoc, StepRecord } from './store';

/**
 * Single-flight bookkeeping around the cache: a step that may reuse takes a claim on its key while it
 * computes; runs that need the same key wait (followers) and are told by event how it ended. Every
 * function here is a side effect the advance starts and awaits with its write.
 */

/**
 * Tells the runs that follow `key`'s claim how it ended, by a durable event on each, instead of leaving
 * them to find out by polling. A holder that ended without shareable outputs sends a failed result: its
 * followers then compute the step themselves. Best effort: the poll remains.
 */
export async function tellWaiters(
  deps: RunDeps,
  key: string,
  holderRunId: string,
  holderJobId: string,
  result: JobResult,
): Promise<void> {
  const { raise, log } = deps;
  if (!raise) return;
  const waiters = await takeWaiters(key).catch((e: unknown) => {
    log(`followers of ${key}: ${(e as Error).message}`);
    return [];
  });
  await Promise.all(
    waiters
      .filter((w) => w.runId !== holderRunId)
      .map((w) =>
        raise(w.runId, followEventName(holderRunId, holderJobId), result).catch((e: unknown) =>
          log(`telling run ${w.runId} of ${key}: ${(e as Error).message}`),
        ),
      ),
  );
}

/** Gives a claim up (the step ended without shareable outputs): its followers compute the step themselves. */
export function giveUpClaim(
  deps: RunDeps,
  key: string,
  runId: string,
  step: string,
  jobId: string,
): Promise<unknown> {
  return release(key, runId, step)
    .catch(() => {})
    .then(() => tellWaiters(deps, key, runId, jobId, notShared(deps, jobId)));
}

/**
 * Steps that ended without a result of their own (canceled with the run, or halted by another step's
 * failure) give up what they held at once: a holder its single-flight claim, whose followers are told
 * there is nothing to share; a follower its waiter registration.
 */
export function releaseEnded(
  deps: RunDeps,
  ctx: RunContext,
  ended: readonly EndedStep[],
  state: PlanState,
  /** Records this advance dispatched and has not written yet. */
  fresh: Record<string, StepRecord>,
): Array<() => Promise<unknown>> {
  const { doc, definition } = ctx;
  const out: Array<() => Promise<unknown>> = [];
  for (const e of ended) {
    const key = (fresh[e.step] ?? doc.steps[e.step])?.cache?.key;
    if (!key || definition.steps[e.step]?.reuse === false || doc.forceRerun) continue;
    if (e.role === 'follower')
      out.push(() =>
        removeWaiter(key, doc.runId, e.step).catch((err) => deps.log(`waiter ${e.step}: ${err}`)),
      );
    else {
      const jobId = `${e.step}.${state.steps[e.step]?.attempt ?? 0}`;
      out.push(() => giveUpClaim(deps, key, doc.runId, e.step, jobId));
    }
  }
  return out;
}

/** A batch step's gathered outputs as the result its followers take. */
export function shared(
  deps: RunDeps,
  jobId: string,
  outputs: Record<string, StepOutputRef>,
  metrics: NonNullable<StepRecord['metrics']>,
): JobResult {
  return {
    jobId,
    state: 'succeeded',
    outputs: Object.entries(outputs).map(([name, o]) => ({
      name,
      type: o.type,
      hash: o.hash,
      size: o.size ?? 0,
    })),
    metrics,
    finishedAt: iso(deps.clock.now()),
    agentId: '',
  };
}

export function notShared(deps: RunDeps, jobId: string): JobResult {
  return {
    jobId,
    state: 'failed',
    failure: { code: 'platform', message: 'the run computing this step produced no outputs to share' },
    outputs: [],
    metrics: [],
    finishedAt: iso(deps.clock.now()),
    agentId: '',
  };
}

/** Records this run as the step's latest execution: what the next run's "why did this run" diffs against. */
export function noteLatest(
  deps: RunDeps,
  doc: RunDoc,
  step: string,
  cacheKey: string,
  components: CacheComponents,
  at: string,
): Promise<void> {
  return writeLatest({ pipeline: doc.pipeline, step, runId: doc.runId, cacheKey, components, at }).catch(
    (e) => deps.log(`latest ${step}: ${e}`),
  );
}
