import { ProblemError } from '../errors/problem';
import type { StartRunRequest, StartRunResult, TriggerInfo } from '../runs/contract';

/**
 * What triggers need from runs (RUNS owns lib/runs): start a run idempotently, read a run's status,
 * cancel a run. Triggers depend on this small port, not on the run engine, and tests of the trigger
 * logic can run it against the real engine through the host.
 */
export interface RunsPort {
  startRun(req: StartRunRequest, trigger: TriggerInfo): Promise<StartRunResult>;
  /** The run's status, or undefined when there is no such run. */
  runStatus(runId: string): Promise<string | undefined>;
  cancelRun(runId: string, reason: string): Promise<void>;
}

type AnyFn = (...args: any[]) => Promise<any>;

/** Loads a function from a lib/runs module; modules are resolved at call time so triggers load without them. */
function runsFunction(module: string, names: string[]): AnyFn {
  let mod: Record<string, unknown>;
  try {
    mod = require(`../runs/${module}`) as Record<string, unknown>;
  } catch (e) {
    throw new ProblemError(
      'unavailable',
      `Runs are not available in this build (lib/runs/${module}: ${(e as Error).message}).`,
    );
  }
  for (const n of names) if (typeof mod[n] === 'function') return mod[n] as AnyFn;
  throw new ProblemError('unavailable', `lib/runs/${module} has none of ${names.join(', ')}.`);
}

export const defaultRunsPort: RunsPort = {
  startRun(req, trigger) {
    return runsFunction('start', ['startRun'])(req, trigger);
  },
  async runStatus(runId) {
    const doc = (await runsFunction('store', ['readRun'])(runId)) as { status?: string } | undefined;
    return doc?.status;
  },
  async cancelRun(runId, reason) {
    await runsFunction('cancel', ['cancelRun'])(runId, reason);
  },
};
