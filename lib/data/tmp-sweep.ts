/**
 * Removes orphaned staging blobs of the content-addressed store. `putStream` stages long streams as
 * `artifacts/tmp/<uuid>` and deletes the temp once it is copied under its hash name; a process killed
 * in between leaves the temp behind for good. This sweep deletes temps whose last modification is older
 * than a TTL.
 *
 * Why it cannot delete a temp an upload still needs:
 * - While blocks are being staged the blob is *uncommitted*: it is not listed (the listing does not ask
 *   for uncommitted blobs), so it is never a candidate, however long the upload takes. Azure drops
 *   uncommitted blocks on its own after 7 days.
 * - A temp is listed only from its commit, which sets its last-modified time, until the delete right
 *   after the server-side copy. The TTL (hours by default, at least one hour) only has to outlast that
 *   copy.
 * - Each delete is conditional on the ETag seen in the listing, so a blob that changed since is kept.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { getClients } from '../azure/clients';
import { getClock } from '../host/clock';
import { parseDuration } from '../pipelines/formats';
import { ARTIFACTS_CONTAINER, TMP_PREFIX } from './cas';
import { DataError } from './errors';
import { mapLimit } from './limit';

/** Default age after which a temp blob counts as orphaned. */
export const DEFAULT_TMP_BLOB_TTL = '6h';
/** Shorter TTLs are refused: a temp may legitimately live until its server-side copy finishes. */
export const MIN_TMP_BLOB_TTL_MS = 3600_000;
/** Listing page size; each page is deleted before the next is read, so memory stays flat. */
const PAGE = 500;
/** Deletes in flight at once. */
const DELETES_IN_FLIGHT = 8;

/**
 * The TTL from setting `SLUICE_TMP_BLOB_TTL` (a duration such as `6h`, `90m`, `1h30m`).
 * Throws a `DataError` (`invalid-setting`) for a value that does not parse or is under one hour, so a
 * typo can never make the sweep delete a temp that an upload still needs.
 */
export function tmpBlobTtlMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = (env.SLUICE_TMP_BLOB_TTL ?? '').trim() || DEFAULT_TMP_BLOB_TTL;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new DataError(
      'invalid-setting',
      `SLUICE_TMP_BLOB_TTL is "${text}", which is not a duration; use hours and minutes such as "6h" or "1h30m" (default ${DEFAULT_TMP_BLOB_TTL}).`,
    );
  if (ms < MIN_TMP_BLOB_TTL_MS)
    throw new DataError(
      'invalid-setting',
      `SLUICE_TMP_BLOB_TTL is "${text}", under the minimum of 1h: a temporary blob lives until its server-side copy finishes, so a shorter TTL could break uploads. Use "1h" or more (default ${DEFAULT_TMP_BLOB_TTL}).`,
    );
  return ms;
}

export interface SweepTmpBlobsOptions {
  /**
   * Temps last modified before `now - olderThanMs` are deleted.
   * @default tmpBlobTtlMs() (setting `SLUICE_TMP_BLOB_TTL`, 6 h)
   */
  olderThanMs?: number;
  /** The current time in ms since the epoch. @default getClock().now() (the host clock, manual in tests) */
  now?: number;
  /** The container to sweep. @default the `artifacts` container from getClients() */
  container?: ContainerClient;
}

export interface SweepTmpBlobsResult {
  /** Temps deleted. */
  deleted: number;
  /** Temps younger than the TTL (uploads that may still need them). */
  kept: number;
  /** Temps that changed or vanished between the listing and the delete (left alone). */
  skipped: number;
  /** The cut-off as an ISO time: temps last modified before it were deleted. */
  cutoff: string;
}

/** Deletes `tmp/` blobs of the artifacts container last modified before the cut-off. */
export async function sweepTmpBlobs(opts: SweepTmpBlobsOptions = {}): Promise<SweepTmpBlobsResult> {
  const olderThanMs = opts.olderThanMs ?? tmpBlobTtlMs();
  const cutoffMs = (opts.now ?? getClock().now()) - olderThanMs;
  const container = opts.container ?? getClients().blob.getContainerClient(ARTIFACTS_CONTAINER);
  const result = { deleted: 0, kept: 0, skipped: 0, cutoff: new Date(cutoffMs).toISOString() };
  try {
    for await (const page of container.listBlobsFlat({ prefix: TMP_PREFIX }).byPage({ maxPageSize: PAGE })) {
      const due = page.segment.blobItems.filter((b) => {
        // Last-modified has one-second resolution: a blob stamped in the cut-off's second is kept.
        const old = b.properties.lastModified.getTime() + 1000 <= cutoffMs;
        if (!old) result.kept++;
        return old;
      });
      await mapLimit(due, DELETES_IN_FLIGHT, async (b) => {
        try {
          const r = await container.getBlobClient(b.name).deleteIfExists({
            deleteSnapshots: 'include',
            conditions: b.properties.etag ? { ifMatch: b.properties.etag } : undefined,
          });
          if (r.succeeded) result.deleted++;
          else result.skipped++;
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode !== 412) throw e;
          result.skipped++; // rewritten since it was listed: not an orphan we judged
        }
      });
    }
  } catch (e) {
    // No container yet: nothing was ever staged.
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
  return result;
}

/**
 * When the sweep runs: hourly (six-field NCRONTAB, at minute 17 so it does not join the top-of-hour
 * crowd). A missed tick loses nothing: the next one deletes everything past the TTL.
 */
export const TMP_SWEEP_SCHEDULE = '0 17 * * * *';

/** The timer function's body: one sweep with the configured TTL, one log line with the counts. */
export async function sweepTmpBlobsOnTimer(
  _timer: unknown,
  ctx: { log(message: string): void },
): Promise<void> {
  const ttl = tmpBlobTtlMs();
  const r = await sweepTmpBlobs({ olderThanMs: ttl });
  ctx.log(
    `artifacts: deleted ${r.deleted} orphaned temporary blob(s) last modified before ${r.cutoff} ` +
      `(TTL ${ttl / 60_000} min); kept ${r.kept} younger, ${r.skipped} changed meanwhile`,
  );
}
