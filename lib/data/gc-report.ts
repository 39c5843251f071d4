/**
 * The artifact GC's report: what one collection read, kept and deleted, and its one-line summary (timer
 * log, CLI). The counts are always complete; the list of collected blobs stops at `MAX_LISTED`.
 */

/** Collected hashes listed in the report (the counts are always complete). */
export const MAX_LISTED = 1000;

export interface CollectedBlob {
  hash: string;
  size: number;
  lastModified: string;
}

export interface GcReport {
  dryRun: boolean;
  /** Root documents read (first pass). */
  roots: { datasetVersions: number; cacheEntries: number; runs: number };
  /** Distinct hashes reachable from the roots (files, manifests, and the files in those manifests). */
  marked: number;
  /** Reachable hashes with no blob (already gone; their directories cannot be read). */
  missing: number;
  /** `sha256/` blobs listed. */
  scanned: number;
  /** Unreferenced blobs deleted (dry run: that would be deleted). */
  deleted: number;
  /**
   * Unreferenced blobs kept because they were modified after the cut-off, or are files of a directory
   * manifest that is kept.
   */
  keptYoung: number;
  /** Unreferenced blobs that changed (were reused) or vanished between the listing and the delete. */
  skipped: number;
  /** Bytes of the deleted blobs (dry run: that would be freed). */
  bytesFreed: number;
  /** Lineage documents deleted with their artifacts (dry run: 0). */
  lineageDeleted: number;
  graceMs: number;
  /** Unreferenced blobs last modified before this time are collected. */
  cutoff: string;
  /** The run in progress that moved the cut-off back, when one did. */
  heldBackBy?: { runId: string; status: string; createdAt: string };
  /** Deleted (dry run: deletable) blobs, the first `MAX_LISTED`. */
  collected: CollectedBlob[];
  /** True when more blobs were collected than `collected` lists. */
  collectedTruncated: boolean;
  startedAt: string;
  finishedAt: string;
}

/** The report in one line (timer log, CLI). */
export function gcSummary(r: GcReport): string {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  return (
    `artifact GC${r.dryRun ? ' (dry run)' : ''}: ${verb} ${r.deleted} of ${r.scanned} blob(s) ` +
    `(${r.bytesFreed} bytes); ${r.marked} reachable, ${r.keptYoung} unreferenced kept as modified after ${r.cutoff}` +
    (r.heldBackBy
      ? ` (held back by run ${r.heldBackBy.runId}, ${r.heldBackBy.status} since ${r.heldBackBy.createdAt})`
      : '') +
    (r.skipped ? `, ${r.skipped} reused meanwhile` : '') +
    `; ${r.lineageDeleted} lineage document(s) deleted`
  );
}
