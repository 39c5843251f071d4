/**
 * The one mapping from how a job ended to the closed failure family of job.ts. Messages say what
 * happened and what to do; lib/runs decides retries from the code.
 */
import type { JobFailureCode } from './job';

export type JobOutcome =
  | { kind: 'exit'; exitCode: number | null; signal: string | null }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'canceled' }
  | { kind: 'lost'; message: string }
  | { kind: 'missing-input'; message: string }
  | { kind: 'missing-output'; message: string }
  | { kind: 'environment'; message: string }
  | { kind: 'platform'; message: string };

/** The failure for an outcome, or undefined when the job succeeded (exit code 0). */
export function failureFor(o: JobOutcome): { code: JobFailureCode; message: string } | undefined {
  switch (o.kind) {
    case 'exit':
      if (o.exitCode === 0) return undefined;
      return {
        code: 'exit-code',
        message:
          o.exitCode !== null
            ? `The command exited with code ${o.exitCode}; see the step log for its output.`
            : `The command was killed by signal ${o.signal ?? 'unknown'} (not by Sluice); see the step log.`,
      };
    case 'timeout':
      return {
        code: 'timeout',
        message: `The command ran longer than its timeout (${o.timeoutMs} ms) and was killed with its process group; raise the step's timeout or make it faster.`,
      };
    case 'canceled':
      return { code: 'canceled', message: 'The job was canceled; its process group was killed.' };
    case 'lost':
      return { code: 'lost', message: o.message };
    case 'missing-input':
      return { code: 'missing-input', message: o.message };
    case 'missing-output':
      // Its own code: the process reported success, so "exit-code" would send users to a log that
      // shows none, and lib/runs does not retry it (see failureDecision).
      return { code: 'missing-output', message: o.message };
    case 'environment':
      return { code: 'environment', message: o.message };
    case 'platform':
      return { code: 'platform', message: o.message };
  }
}
