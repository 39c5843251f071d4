import type { InvocationContext } from '@azure/functions';
import { cancelRun } from '../runs/cancel';
import type { StartRunRequest, StartRunResult, TriggerInfo } from '../runs/contract';
import { startRun } from '../runs/start';
import { readRun } from '../runs/store';

/**
 * What triggers need from runs (RUNS owns lib/runs): start a run idempotently, read a run's status,
 * cancel a run. Triggers depend on this small port rather than on the run engine's internals.
 */
export interface RunsPort {
  startRun(req: StartRunRequest, trigger: TriggerInfo): Promise<StartRunResult>;
  /** The run's status, or undefined when there is no such run. */
  runStatus(runId: string): Promise<string | undefined>;
  /** Asks the run to stop; 409 when it already ended, 404 when there is no such run. */
  cancelRun(runId: string, reason: string): Promise<void>;
}

/**
 * The port for one invocation. Pass its context when the function declares a `durableClient` input
 * binding: on Azure that binding is the only way to reach the durable engine (its loopback RPC endpoint);
 * without it the client falls back to the local host's settings.
 */
export function runsPortFor(context?: InvocationContext): RunsPort {
  return {
    startRun: (req, trigger) => startRun(req, trigger, context ? { context } : {}),
    async runStatus(runId) {
      return (await readRun(runId))?.status;
    },
    async cancelRun(runId, reason) {
      await cancelRun(runId, reason, context);
    },
  };
}

export const defaultRunsPort: RunsPort = runsPortFor();
