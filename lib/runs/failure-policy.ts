import type { JobFailureCode } from '../compute/job';

/**
 * The one place that decides what a failed attempt (of a step, a mini-batch or a trial) leads to: retry
 * or not, and the status when no attempt is left. Pure; `plan.ts` and `parallel-plan.ts` both use it.
 */

export interface FailureDecision {
  /** Worth another attempt if the step's `retries` allow it. */
  retryable: boolean;
  /** The step's status when no attempt is left (or not retryable). */
  status: 'Failed' | 'Canceled';
}

/** The one place that maps a job failure to a retry decision and a step status. */
export function failureDecision(code: JobFailureCode): FailureDecision {
  switch (code) {
    case 'exit-code':
    case 'timeout':
    case 'lost':
    case 'platform':
      return { retryable: true, status: 'Failed' };
    case 'missing-input':
      // The artifact is gone; running again reads the same missing hash. A rerun re-resolves inputs.
      return { retryable: false, status: 'Failed' };
    case 'missing-output':
      // The command exited 0, so it saw no transient error: the same code on the same inputs writes
      // the same (missing) outputs again. A retry would only delay the message that names the output.
      return { retryable: false, status: 'Failed' };
    case 'canceled':
      return { retryable: false, status: 'Canceled' };
    default:
      return assertNever(code);
  }
}

function assertNever(x: never): never {
  throw new Error(`unhandled failure code ${String(x)}`);
}

/** Back-off before attempt `attempt + 1`, after `attempt` failed attempts: 2 s, 4 s, 8 s … capped at 60 s. */
export function retryBackoffMs(attempt: number, baseMs = 2000, capMs = 60_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
