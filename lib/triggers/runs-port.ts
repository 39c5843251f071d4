import { conflict, notFound } from '../errors/problem';
import { getClock } from '../host/clock';
import type { StartRunRequest, StartRunResult, TriggerInfo } from '../runs/contract';
import { durableClient } from '../runs/durable-client';
import { CANCEL_EVENT } from '../runs/orchestrator';
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

const ENDED = ['Completed', 'Failed', 'Canceled'];

export const defaultRunsPort: RunsPort = {
  startRun: (req, trigger) => startRun(req, trigger),
  async runStatus(runId) {
    return (await readRun(runId))?.status;
  },
  async cancelRun(runId, reason) {
    // The same event POST /api/runs/{id}/cancel raises (lib/runs/http.ts).
    const doc = await readRun(runId);
    if (!doc) throw notFound(`There is no run ${runId}.`);
    if (ENDED.includes(doc.status)) throw conflict(`Run ${runId} already ended (${doc.status}).`);
    await durableClient().raiseEvent(runId, CANCEL_EVENT, {
      at: new Date(getClock().now()).toISOString(),
      reason,
    });
  },
};
