import type { InvocationContext, Timer } from '@azure/functions';
import { getClock } from '../host/clock';
import { createVersion, type DatasetSource } from '../data/datasets';
import { readManifest } from '../data/cas';
import { readRun } from '../runs/store';
import { QUEUE_SOURCE } from './queue-runs';
import { listEntries, writeEntry, type TriggerLogEntry } from './trigger-log';

/**
 * Output delivery for queue runs: a message's `outputs` ({"score.scores": {"dataset": "scores"}}) is
 * recorded as an `awaitingRun` entry when the run starts. When the run has completed, each named step
 * output is registered as the next version of its dataset (content-addressed, so nothing is copied and
 * an unchanged output does not create a version). A failed or canceled run records `notDelivered`.
 * Called from a timer; safe to run twice (registration is idempotent by content, the entry id is the run).
 */

const ENDED = ['Completed', 'Failed', 'Canceled'];
const iso = (t: number): string => new Date(t).toISOString();

export async function deliverFinishedRuns(log: (m: string) => void = () => {}): Promise<number> {
  let done = 0;
  let token: string | undefined;
  do {
    const page = await listEntries(QUEUE_SOURCE, {
      decision: 'awaitingRun',
      limit: 100,
      ...(token ? { continuationToken: token } : {}),
    });
    for (const entry of page.items) {
      try {
        if (await deliver(entry, log)) done++;
      } catch (e) {
        log(`delivery for run ${entry.runId}: will retry: ${(e as Error).message}`);
      }
    }
    token = page.continuationToken;
  } while (token);
  return done;
}

async function deliver(entry: TriggerLogEntry, log: (m: string) => void): Promise<boolean> {
  const run = await readRun(entry.runId!);
  if (run && !ENDED.includes(run.status)) return false;
  const at = iso(getClock().now());
  if (!run || run.status !== 'Completed') {
    await writeEntry({
      ...entry,
      at,
      decision: 'notDelivered',
      reason: run
        ? `run ${run.runId} ended ${run.status}; nothing was delivered`
        : `run ${entry.runId} no longer exists`,
    });
    return true;
  }
  const delivered: NonNullable<TriggerLogEntry['delivered']> = {};
  const missing: string[] = [];
  for (const [key, target] of Object.entries(entry.outputs ?? {})) {
    const [step, output] = key.split('.') as [string, string];
    const ref = run.steps[step]?.outputs?.[output];
    if (!ref) {
      missing.push(key);
      continue;
    }
    const files = ref.type === 'file' ? 1 : (await readManifest(ref.hash)).length;
    const source: DatasetSource = { kind: 'run', runId: run.runId, step, output };
    const r = await createVersion(
      target.dataset,
      { hash: ref.hash, type: ref.type, size: ref.size ?? 0, files },
      source,
    );
    delivered[key] = {
      dataset: target.dataset,
      version: r.version.version,
      hash: ref.hash,
      created: r.created,
    };
    log(
      `run ${run.runId}: ${key} → dataset ${target.dataset}@${r.version.version}${r.created ? '' : ' (unchanged)'}`,
    );
  }
  await writeEntry({
    ...entry,
    at,
    decision: missing.length ? 'notDelivered' : 'delivered',
    delivered,
    ...(missing.length ? { reason: `the run completed without output(s) ${missing.join(', ')}` } : {}),
  });
  return true;
}

/** The timer handler (functions/queue-runs.ts). */
export async function deliverOnTimer(_timer: Timer, ctx: InvocationContext): Promise<void> {
  const n = await deliverFinishedRuns((m) => ctx.log(m));
  if (n) ctx.log(`delivered the outputs of ${n} finished queue run(s)`);
}
