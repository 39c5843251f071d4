/**
 * Run retention: a daily timer deletes finished runs older than `SLUICE_RUN_RETENTION_DAYS` (off by
 * default: runs are kept until deleted). A run goes as `DELETE /api/runs/{id}` takes it (lib/runs/delete.ts):
 * document, logs, job rows, history, cache entries, lineage. Its data stays while a dataset version,
 * another run or a cache entry references it; the artifact GC collects the rest.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { ProblemError } from '../errors/problem';
import { getClock } from '../host/clock';
import { deleteRun } from './delete';
import { runsContainer } from './store';

/** Daily, at 02:47 (six-field NCRONTAB). */
export const RUN_RETENTION_SCHEDULE = '0 47 2 * * *';
const DAY_MS = 86_400_000;
/** Runs deleted at once. */
const IN_FLIGHT = 4;

export class RetentionSettingError extends Error {}

/**
 * The retention from `SLUICE_RUN_RETENTION_DAYS`: undefined when unset or 0 (keep every run). Throws for
 * anything but a whole number of days, so a typo never deletes runs.
 */
export function runRetentionMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = (env.SLUICE_RUN_RETENTION_DAYS ?? '').trim();
  if (text === '' || text === '0') return undefined;
  if (!/^[1-9]\d{0,4}$/.test(text))
    throw new RetentionSettingError(
      `SLUICE_RUN_RETENTION_DAYS is "${text}"; use a whole number of days such as 90, or 0 (or nothing) to keep every run.`,
    );
  return Number(text) * DAY_MS;
}

export interface ExpiredRunsReport {
  cutoff: string;
  deleted: string[];
  /** Runs that could not be deleted this time, with why (they are tried again on the next day). */
  failed: Array<{ runId: string; message: string }>;
}

/** Deletes every finished run that ended before `now - olderThanMs`. */
export async function deleteExpiredRuns(opts: {
  olderThanMs: number;
  now?: number;
  context?: InvocationContext;
}): Promise<ExpiredRunsReport> {
  const cutoff = new Date((opts.now ?? getClock().now()) - opts.olderThanMs).toISOString();
  const c = await runsContainer();
  const { resources } = await c.items
    .query<{ runId: string }>({
      query:
        "SELECT c.runId FROM c WHERE c.type = 'run' AND c.status IN ('Completed', 'Failed', 'Canceled') " +
        'AND IS_DEFINED(c.finishedAt) AND c.finishedAt < @cutoff',
      parameters: [{ name: '@cutoff', value: cutoff }],
    })
    .fetchAll();
  const report: ExpiredRunsReport = { cutoff, deleted: [], failed: [] };
  const queue = resources.map((r) => r.runId);
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, queue.length) }, async () => {
      for (let runId = queue.shift(); runId !== undefined; runId = queue.shift()) {
        try {
          await deleteRun(runId, opts.context);
          report.deleted.push(runId);
        } catch (e) {
          // Gone meanwhile (someone deleted it) is fine; anything else waits for the next day.
          if (e instanceof ProblemError && e.status === 404) continue;
          report.failed.push({ runId, message: (e as Error).message });
        }
      }
    }),
  );
  return report;
}

export async function deleteExpiredRunsOnTimer(_timer: Timer, ctx: InvocationContext): Promise<void> {
  let olderThanMs: number | undefined;
  try {
    olderThanMs = runRetentionMs();
  } catch (e) {
    ctx.error(`run retention skipped: ${(e as Error).message}`);
    return;
  }
  if (olderThanMs === undefined) return;
  const r = await deleteExpiredRuns({ olderThanMs, context: ctx });
  ctx.log(
    `run retention: deleted ${r.deleted.length} runs that ended before ${r.cutoff}` +
      (r.failed.length
        ? `; ${r.failed.length} kept for the next day (${r.failed[0]!.runId}: ${r.failed[0]!.message})`
        : ''),
  );
}
