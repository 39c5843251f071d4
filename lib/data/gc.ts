/**
 * Garbage collection of the content-addressed store (mark and sweep). Nothing else ever deletes a
 * `sha256/<hex>` blob: every run, dataset upload and cache entry adds content, so without this the
 * `artifacts` container only grows.
 *
 * Mark: every hash a root names is reachable — each dataset version (`datasets`), each reuse-cache
 * entry's outputs (`cache`), and each run document's resolved inputs and step outputs (`runs`, every
 * status). A directory is its manifest: the manifest is marked and read (once) and each of its files
 * marked. The root documents are then read a second time, only those changed since the mark began, so a
 * reference that moved between documents while they were being read is not missed.
 *
 * Sweep: each `sha256/` blob (never `tmp/`, which tmp-sweep.ts owns) that is unmarked and last modified
 * before the cut-off is deleted, conditional on the ETag listed, then the lineage documents of its hash.
 *
 * Why it cannot delete content that is about to be referenced:
 * - Content stored since the cut-off is kept: the grace period (`SLUICE_GC_GRACE`, 24 h by default,
 *   at least 1 h) covers an upload whose reference is not recorded yet.
 * - A writer that reuses content already stored (the dedup path of cas.ts) refreshes a blob older than
 *   `REFRESH_AFTER_MS` (cas.ts) before relying on it; that restarts the grace period, and makes a delete that
 *   listed the old ETag fail (412), so the blob stays. A delete that wins is seen by the writer (404),
 *   which stores the bytes again.
 * - While a run is in progress, intermediate content that only its orchestration knows (mini-batch
 *   inputs and outputs before they are gathered) is referenced by no document. So the cut-off never
 *   passes the start of the oldest run in progress (less a margin); the report names that run.
 *
 * This module holds the grace setting, the cut-off and the order of the phases; the mark is in
 * `gc-roots.ts`, the sweep in `gc-sweep.ts`, the report's shape and summary in `gc-report.ts`.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { getClients } from '../azure/clients';
import { getClock } from '../host/clock';
import { parseDuration } from '../pipelines/formats';
import { ARTIFACTS_CONTAINER } from './cas';
import { DataError } from './errors';
import { gcSummary, type GcReport } from './gc-report';
import { Marker, markRoots } from './gc-roots';
import { sweepUnmarked } from './gc-sweep';
import { LINEAGE_CONTAINER } from './lineage';

/** Default age an unreferenced blob must reach before it is collected. */
export const DEFAULT_GC_GRACE = '24h';
/** Shorter grace periods are refused: an upload's reference may take minutes to be recorded. */
export const MIN_GC_GRACE_MS = 3600_000;
/**
 * The cut-off stays this far before the oldest run in progress started: its content may have been
 * reused (not rewritten) up to `REFRESH_AFTER_MS` before that, and clocks of hosts and storage differ.
 */
export const ACTIVE_RUN_MARGIN_MS = 3600_000;
/** Cosmos `_ts` has one-second resolution, and writers' clocks differ a little from the server's. */
const DELTA_SLACK_S = 5;

/**
 * The grace period from setting `SLUICE_GC_GRACE` (a duration such as `24h`, `36h`, `1h30m`).
 * Throws a `DataError` (`invalid-setting`) for a value that does not parse or is under one hour, so a
 * typo can never make the GC delete an upload whose reference is still on its way.
 */
export function gcGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = (env.SLUICE_GC_GRACE ?? '').trim() || DEFAULT_GC_GRACE;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new DataError(
      'invalid-setting',
      `SLUICE_GC_GRACE is "${text}", which is not a duration; use hours and minutes such as "24h" or "36h" (default ${DEFAULT_GC_GRACE}). Nothing was deleted.`,
    );
  if (ms < MIN_GC_GRACE_MS)
    throw new DataError(
      'invalid-setting',
      `SLUICE_GC_GRACE is "${text}", under the minimum of 1h: a fresh upload is referenced only once its run or registration records it, so a shorter grace could delete it. Use "1h" or more (default ${DEFAULT_GC_GRACE}). Nothing was deleted.`,
    );
  return ms;
}

export interface CollectGarbageOptions {
  /** Report what would be deleted and delete nothing. @default false */
  dryRun?: boolean;
  /**
   * Unreferenced blobs last modified less than this long before `now` are kept (at least 1 h).
   * @default gcGraceMs() (setting `SLUICE_GC_GRACE`, 24 h)
   */
  graceMs?: number;
  /** The current time in ms since the epoch. @default getClock().now() (the host clock, manual in tests) */
  now?: number;
  /** Progress lines (phase counts). @default none */
  log?: (message: string) => void;
  /** The blob container to collect. @default the `artifacts` container from getClients() */
  container?: ContainerClient;
}

/**
 * One mark-and-sweep collection of the `artifacts` container. Deletes nothing when `dryRun`, nor when
 * the grace period is invalid (a `DataError` naming the setting) or a referenced manifest is corrupt.
 */
export async function collectGarbage(opts: CollectGarbageOptions = {}): Promise<GcReport> {
  const graceMs = opts.graceMs ?? gcGraceMs();
  if (!(graceMs >= MIN_GC_GRACE_MS))
    throw new DataError(
      'invalid-setting',
      `The GC grace period is ${graceMs} ms, under the minimum of 1 hour (${MIN_GC_GRACE_MS} ms): a fresh upload could be deleted before its reference is recorded. Nothing was deleted.`,
    );
  const dryRun = opts.dryRun ?? false;
  const log = opts.log ?? ((): void => {});
  const now = opts.now ?? getClock().now();
  const startedAt = new Date().toISOString();
  const markStartS = Math.floor(Date.now() / 1000) - DELTA_SLACK_S;

  const marker = new Marker();
  const first = await markRoots(marker);
  // References copied from a document not yet read into one already read are in a changed document.
  const delta = await markRoots(marker, markStartS);
  log(
    `artifact GC: marked ${marker.marked.size} reachable hash(es) from ${first.roots.datasetVersions} dataset version(s), ` +
      `${first.roots.cacheEntries} cache entr(ies), ${first.roots.runs} run(s); ${marker.missing} referenced manifest(s) missing`,
  );

  let cutoffMs = now - graceMs;
  const active = [first.oldestActive, delta.oldestActive]
    .filter((a): a is NonNullable<typeof a> => !!a)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))[0];
  let heldBackBy: GcReport['heldBackBy'];
  const activeStart = active ? Date.parse(active.createdAt) : NaN;
  if (active && Number.isFinite(activeStart) && activeStart - ACTIVE_RUN_MARGIN_MS < cutoffMs) {
    cutoffMs = activeStart - ACTIVE_RUN_MARGIN_MS;
    heldBackBy = active;
  }

  const report: GcReport = {
    dryRun,
    roots: first.roots,
    marked: marker.marked.size,
    missing: marker.missing,
    scanned: 0,
    deleted: 0,
    keptYoung: 0,
    skipped: 0,
    bytesFreed: 0,
    lineageDeleted: 0,
    graceMs,
    cutoff: new Date(cutoffMs).toISOString(),
    ...(heldBackBy ? { heldBackBy } : {}),
    collected: [],
    collectedTruncated: false,
    startedAt,
    finishedAt: startedAt,
  };
  const container = opts.container ?? getClients().blob.getContainerClient(ARTIFACTS_CONTAINER);
  const lineage = await getClients().container(LINEAGE_CONTAINER, '/hash');

  await sweepUnmarked({ container, lineage, marker, cutoffMs, dryRun, report });
  report.finishedAt = new Date().toISOString();
  log(gcSummary(report));
  return report;
}

/**
 * When the GC runs: daily at 03:17 (six-field NCRONTAB), after run retention (02:47) has deleted
 * expired runs, whose data becomes unreferenced. A missed day loses nothing: the next run collects it.
 */
export const GC_SCHEDULE = '0 17 3 * * *';

/** The timer function's body: one collection with the configured grace, one summary log line. */
export async function collectGarbageOnTimer(
  _timer: unknown,
  ctx: { log(message: string): void },
): Promise<void> {
  await collectGarbage({ log: (m) => ctx.log(m) });
}
