/**
 * The artifact GC's sweep: each `sha256/` blob (never `tmp/`, which tmp-sweep.ts owns) that is unmarked
 * and last modified before the cut-off is deleted, conditional on the ETag listed, then the lineage
 * documents of its hash, so lineage never names data that is gone. Manifests go before files, and a kept
 * manifest (too young, or refreshed since the listing) has its files marked before any file is deleted.
 * A dry run deletes nothing and counts what would go.
 */
import type { Container } from '@azure/cosmos';
import type { ContainerClient } from '@azure/storage-blob';
import { MAX_LISTED, type CollectedBlob, type GcReport } from './gc-report';
import type { Marker } from './gc-roots';
import { mapLimit } from './limit';

const BLOB_PREFIX = 'sha256/';
const BLOB_PAGE = 500;
const DELETES_IN_FLIGHT = 8;

/** The HTTP status of a storage (`statusCode`; its `code` is a name) or Cosmos (`code`) error. */
function code(e: unknown): number | undefined {
  const { code: c, statusCode } = (e ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  return typeof c === 'number' ? c : undefined;
}

/** An unreferenced blob old enough to collect, as listed. */
interface Candidate {
  name: string;
  etag?: string;
  manifest: boolean;
  blob: CollectedBlob;
}

/** Deletes the lineage documents of one hash (every edge lives in the hash's partition). */
async function deleteLineage(c: Container, hash: string): Promise<number> {
  let n = 0;
  // The WHERE clause is needed: the embedded Cosmos server ignores the partitionKey option of queries.
  const it = c.items.query<{ id: string }>(
    { query: 'SELECT c.id FROM c WHERE c.hash = @h', parameters: [{ name: '@h', value: hash }] },
    { partitionKey: hash, maxItemCount: 100 },
  );
  while (it.hasMoreResults()) {
    const page = await it.fetchNext();
    for (const d of page.resources ?? []) {
      try {
        await c.item(d.id, hash).delete();
        n++;
      } catch (e) {
        if (code(e) !== 404) throw e;
      }
    }
  }
  return n;
}

/** What one sweep works with. */
export interface SweepContext {
  /** The blob container collected (`artifacts`). */
  container: ContainerClient;
  /** The Cosmos `lineage` container, pk `/hash`. */
  lineage: Container;
  /** The reachable set from the roots; the sweep adds the files of manifests it keeps. */
  marker: Marker;
  /** Unreferenced blobs last modified before this time (ms since the epoch) are collected. */
  cutoffMs: number;
  dryRun: boolean;
  /** Filled in: `scanned`, `deleted`, `keptYoung`, `skipped`, `bytesFreed`, `lineageDeleted`, `collected`. */
  report: GcReport;
}

/** Lists the store and deletes (dry run: counts) every unmarked blob older than the cut-off. */
export async function sweepUnmarked(ctx: SweepContext): Promise<void> {
  const { container, lineage, marker, cutoffMs, dryRun, report } = ctx;
  const collected = (b: CollectedBlob): void => {
    report.deleted++;
    report.bytesFreed += b.size;
    if (report.collected.length < MAX_LISTED) report.collected.push(b);
    else report.collectedTruncated = true;
  };

  // 1. List. A kept manifest keeps its files, so the files of unreferenced manifests that are too young
  //    to collect are marked too (content that is being referenced right now is never left incomplete).
  const candidates: Candidate[] = [];
  let reachable = 0;
  try {
    for await (const page of container
      .listBlobsFlat({ prefix: BLOB_PREFIX, includeMetadata: true })
      .byPage({ maxPageSize: BLOB_PAGE })) {
      for (const b of page.segment.blobItems) {
        report.scanned++;
        const hash = 'sha256:' + b.name.slice(BLOB_PREFIX.length);
        if (marker.marked.has(hash)) {
          reachable++;
          continue;
        }
        const manifest = b.metadata?.sluicekind === 'manifest';
        // Last-modified has one-second resolution: a blob stamped in the cut-off's second is kept.
        if (b.properties.lastModified.getTime() + 1000 > cutoffMs) {
          if (manifest) marker.add({ hash, type: 'directory' });
          continue;
        }
        candidates.push({
          name: b.name,
          etag: b.properties.etag,
          manifest,
          blob: {
            hash,
            size: b.properties.contentLength ?? 0,
            lastModified: b.properties.lastModified.toISOString(),
          },
        });
      }
      await marker.drain();
    }
  } catch (e) {
    // No container yet: nothing was ever stored.
    if (code(e) !== 404) throw e;
  }

  // 2. Manifests before files: a manifest reused (refreshed) since the listing fails its conditional
  //    delete, and its files are marked before any file is deleted.
  const sweep = async (list: Candidate[]): Promise<void> => {
    await mapLimit(list, DELETES_IN_FLIGHT, async (c) => {
      if (marker.marked.has(c.blob.hash)) return;
      if (dryRun) return collected(c.blob);
      try {
        const r = await container.getBlobClient(c.name).deleteIfExists({
          deleteSnapshots: 'include',
          conditions: c.etag ? { ifMatch: c.etag } : undefined,
        });
        if (!r.succeeded) return void report.skipped++;
      } catch (e) {
        if (code(e) !== 412) throw e;
        report.skipped++; // reused since it was listed: no longer ours to judge
        if (c.manifest) marker.add({ hash: c.blob.hash, type: 'directory' });
        return;
      }
      collected(c.blob);
      // Not `+= await`: that reads the total before the await, losing concurrent additions.
      const edges = await deleteLineage(lineage, c.blob.hash);
      report.lineageDeleted += edges;
    });
    await marker.drain();
  };
  await sweep(candidates.filter((c) => c.manifest));
  await sweep(candidates.filter((c) => !c.manifest));
  report.keptYoung = report.scanned - reachable - report.deleted - report.skipped;
}
