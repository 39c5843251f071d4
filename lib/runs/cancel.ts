import type { InvocationContext } from '@azure/functions';
import { conflict, notFound } from '../errors/problem';
import { getClock } from '../host/clock';
import { durableClient } from './durable-client';
import { CANCEL_EVENT } from './activity-contract';
import { readRun, type RunDoc } from './store';

const ENDED = ['Completed', 'Failed', 'Canceled'];

/**
 * Asks a run to stop: raises the orchestration's `cancel` event (the orchestration is the run's only
 * writer; it cancels active steps, kills their processes and skips the rest). Used by
 * `POST /api/runs/{id}/cancel` and by triggers. Throws ProblemError 404 when there is no such run and
 * 409 when it already ended. Returns the run as read before the request.
 */
export async function cancelRun(
  runId: string,
  reason?: string,
  context?: InvocationContext,
): Promise<RunDoc> {
  const doc = await readRun(runId);
  if (!doc) throw notFound(`There is no run "${runId}"; list runs with GET /api/runs.`);
  if (ENDED.includes(doc.status))
    throw conflict(`Run ${doc.runId} already ended (${doc.status}); there is nothing to cancel.`, {
      runStatus: doc.status,
    });
  await durableClient(context).raiseEvent(doc.runId, CANCEL_EVENT, {
    at: new Date(getClock().now()).toISOString(),
    ...(reason ? { reason } : {}),
  });
  return doc;
}
