import { getClients } from '../azure/clients';
import { releaseRunClaims } from './cache-store';
import type { StepOutputRef } from './plan';
import { forgetRun } from './run-context';
import { iso, type RunDeps } from './run-deps';
import { updateRun, type RunDoc } from './store';

/** A run ended: its summary goes to the `replyTo` queue of the message that started it, once. */
export async function finishRun(deps: RunDeps, doc: RunDoc): Promise<void> {
  if (doc.trigger.type !== 'queue' || !doc.trigger.replyTo || doc.replied) return;
  const outputs: Record<string, Record<string, StepOutputRef>> = {};
  for (const [name, s] of Object.entries(doc.steps)) if (s.outputs) outputs[name] = s.outputs;
  const summary = {
    runId: doc.runId,
    pipeline: doc.pipeline,
    version: doc.version,
    status: doc.status,
    outputs,
    startedAt: doc.startedAt ?? doc.createdAt,
    finishedAt: doc.finishedAt,
  };
  try {
    const q = getClients().queue.getQueueClient(doc.trigger.replyTo);
    await q.createIfNotExists();
    await q.sendMessage(Buffer.from(JSON.stringify(summary)).toString('base64'));
    await updateRun(
      doc.runId,
      (d) => {
        d.replied = true;
      },
      undefined,
      [],
    );
  } catch (e) {
    deps.log(
      `run ${doc.runId}: could not post the summary to queue ${doc.trigger.replyTo}: ${(e as Error).message}`,
    );
  }
}

/**
 * The orchestration could not go on (an activity kept failing): the run ends Failed with the reason,
 * running jobs are asked to stop, and steps not finished are marked Canceled/Skipped.
 */
export async function abortRun(deps: RunDeps, input: { runId: string; message: string }): Promise<void> {
  forgetRun(input.runId);
  const now = iso(deps.clock.now());
  const doc = await updateRun(input.runId, (d) => {
    d.status = 'Failed';
    d.error = `the run orchestration stopped: ${input.message}`;
    d.finishedAt ??= now;
    for (const s of Object.values(d.steps)) {
      if (s.status === 'Queued' || s.status === 'Running') {
        s.status = 'Canceled';
        s.error = { code: 'platform', message: d.error };
      } else if (s.status === 'NotStarted') {
        s.status = 'Skipped';
        s.error = { code: 'skipped', message: d.error };
      }
    }
  });
  await Promise.all(
    Object.values(doc.steps)
      .filter((s) => s.status === 'Canceled' && s.jobId)
      .map((s) => deps.compute.cancel(doc.runId, s.jobId!).catch(() => undefined)),
  );
  await releaseRunClaims(input.runId).catch(() => []);
  await finishRun(deps, doc);
}
