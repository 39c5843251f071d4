import { latestOccurrences, occurrencesBetween, type CompiledRule } from './rules';

/**
 * What a schedule evaluation should do, decided without I/O. The evaluator (lib/schedules/evaluate.ts)
 * calls these with the stored `lastEvaluated`, the clock's now and the previous run's status.
 */

export type CatchUp = 'none' | 'latest' | 'all';
export type Overlap = 'skip' | 'allow' | 'cancelPrevious';

export interface DueInput {
  rule: CompiledRule;
  /** Occurrences at or before this instant were handled already (or predate the schedule). */
  lastEvaluated: number;
  now: number;
  catchUp: CatchUp;
  /** With `catchUp: all`, at most this many missed occurrences run (the most recent ones). */
  catchUpLimit: number;
  /**
   * How late an occurrence may be and still count as on time (not missed). It covers the evaluator's
   * tick and start-up latency; an occurrence older than this was missed (host down, schedule lagging).
   */
  graceMs: number;
}

export interface MissedRange {
  /** Missed occurrences that will not run (a lower bound when `countIsLowerBound`). */
  count: number;
  countIsLowerBound: boolean;
  first: number;
  last: number;
  reason: string;
}

export interface DuePlan {
  /** Occurrences to start runs for, oldest first. */
  fire: Array<{ occurrence: number; late: boolean }>;
  /** Occurrences that were due but will not run, summarised. */
  missed: MissedRange | undefined;
  /** The new `lastEvaluated`: every occurrence up to here has been decided. */
  evaluatedThrough: number;
}

/** Enough to say "at least N" without walking a year of per-second occurrences. */
const MISSED_COUNT_CAP = 10_000;
/** On-time occurrences per evaluation, a guard against an absurd grace on a per-second rule. */
const ON_TIME_CAP = 1_000;

/**
 * Decides which occurrences in `(lastEvaluated, now]` run.
 * - On time (no older than `graceMs`): always run, whatever `catchUp` says.
 * - Missed (older than that, e.g. while the host was down):
 *   - `none`: none run; they are reported as missed.
 *   - `latest`: the most recent missed occurrence runs, unless an on-time occurrence runs in the same
 *     evaluation (that run is already the latest); the others are reported as missed.
 *   - `all`: the most recent `catchUpLimit` missed occurrences run, oldest first; older ones are reported.
 */
export function planDue(input: DueInput): DuePlan {
  const { rule, lastEvaluated, now, catchUp } = input;
  if (now <= lastEvaluated) return { fire: [], missed: undefined, evaluatedThrough: lastEvaluated };
  const onTimeAfter = Math.max(lastEvaluated, now - Math.max(0, input.graceMs));
  const onTime = occurrencesBetween(rule, onTimeAfter, now, ON_TIME_CAP);
  const fire: DuePlan['fire'] = [];

  let lateFire: number[] = [];
  if (onTimeAfter > lastEvaluated) {
    if (catchUp === 'latest' && onTime.length === 0)
      lateFire = latestOccurrences(rule, lastEvaluated, onTimeAfter, 1);
    if (catchUp === 'all')
      lateFire = latestOccurrences(
        rule,
        lastEvaluated,
        onTimeAfter,
        Math.max(0, Math.floor(input.catchUpLimit)),
      );
  }
  for (const t of lateFire) fire.push({ occurrence: t, late: true });
  for (const t of onTime) fire.push({ occurrence: t, late: false });

  let missed: MissedRange | undefined;
  if (onTimeAfter > lastEvaluated) {
    // Missed = due before the grace window and not among lateFire (which are always the newest ones).
    const missedUntil = lateFire.length > 0 ? lateFire[0]! - 1 : onTimeAfter;
    const found = occurrencesBetween(rule, lastEvaluated, missedUntil, MISSED_COUNT_CAP);
    if (found.length > 0) {
      const lowerBound = found.length === MISSED_COUNT_CAP;
      const last = lowerBound
        ? latestOccurrences(rule, lastEvaluated, missedUntil, 1)[0]!
        : found[found.length - 1]!;
      missed = {
        count: found.length,
        countIsLowerBound: lowerBound,
        first: found[0]!,
        last,
        reason: missedReason(catchUp, input.catchUpLimit, onTime.length > 0),
      };
    }
  }
  return { fire, missed, evaluatedThrough: now };
}

function missedReason(catchUp: CatchUp, limit: number, onTimeRan: boolean): string {
  switch (catchUp) {
    case 'none':
      return 'missed while the schedule was not evaluated; catchUp is "none", so missed occurrences do not run';
    case 'latest':
      return onTimeRan
        ? 'missed; catchUp is "latest" and an on-time occurrence ran in the same evaluation'
        : 'missed; catchUp is "latest", so only the most recent missed occurrence ran';
    case 'all':
      return `missed; catchUp is "all" but at most catchUpLimit (${limit}) missed occurrences run`;
  }
}

/** Run statuses that mean "still going". Anything else (Completed, Failed, Canceled, unknown) has ended. */
const ACTIVE = new Set(['Queued', 'Running', 'Pending', 'Canceling']);

export function isActiveStatus(status: string | undefined): boolean {
  return status !== undefined && ACTIVE.has(status);
}

export type OverlapDecision =
  | { action: 'start' }
  | { action: 'skip'; reason: string }
  | { action: 'cancelPreviousThenStart'; cancelRunId: string };

/** What to do with a new occurrence given the schedule's previous run. */
export function decideOverlap(
  policy: Overlap,
  previous: { runId: string; status: string | undefined } | undefined,
): OverlapDecision {
  if (!previous || !isActiveStatus(previous.status) || policy === 'allow') return { action: 'start' };
  if (policy === 'skip')
    return {
      action: 'skip',
      reason: `the previous run ${previous.runId} is still ${previous.status}; overlap is "skip"`,
    };
  return { action: 'cancelPreviousThenStart', cancelRunId: previous.runId };
}
