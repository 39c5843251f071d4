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
 */
import type { Container } from '@azure/cosmos';
import type { ContainerClient } from '@azure/storage-blob';
import { getClients } from '../azure/clients';
import { queryPage } from '../azure/cosmos-page';
import { getClock } from '../host/clock';
import { parseDuration } from '../pipelines/formats';
import { ARTIFACTS_CONTAINER, readManifest } from './cas';
import { DATASETS_CONTAINER } from './datasets';
import { DataError } from './errors';
import { LINEAGE_CONTAINER } from './lineage';
import { mapLimit } from './limit';

/** Default age an unreferenced blob must reach before it is collected. */
export const DEFAULT_GC_GRACE = '24h';
/** Shorter grace periods are refused: an upload's reference may take minutes to be recorded. */
export const MIN_GC_GRACE_MS = 3600_000;
/**
 * The cut-off stays this far before the oldest run in progress started: its content may have been
 * reused (not rewritten) up to `REFRESH_AFTER_MS` before that, and clocks of hosts and storage differ.
 */
export const ACTIVE_RUN_MARGIN_MS = 3600_000;
/** Collected hashes listed in the report (the counts are always complete). */
export const MAX_LISTED = 1000;

// The containers RUNS owns; read here, never written. Named locally so this module does not load the
// run engine's modules.
const RUNS_CONTAINER = 'runs';
const CACHE_CONTAINER = 'cache';
const ENDED = new Set(['Completed', 'Failed', 'Canceled']);

const BLOB_PREFIX = 'sha256/';
const ROOT_PAGE = 100;
const BLOB_PAGE = 500;
const MANIFESTS_IN_FLIGHT = 8;
const DELETES_IN_FLIGHT = 8;
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

type OutputRef = { hash?: unknown; type?: unknown };

interface RunRoot {
  runId: string;
  type: string;
  status: string;
  createdAt: string;
  resolvedInputs?: Record<string, OutputRef>;
  steps?: Record<string, { outputs?: Record<string, OutputRef> }>;
}

/** The HTTP status of a storage (`statusCode`; its `code` is a name) or Cosmos (`code`) error. */
function code(e: unknown): number | undefined {
  const { code: c, statusCode } = (e ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  return typeof c === 'number' ? c : undefined;
}

/** The reachable set, built from root references; each manifest is read once. */
class Marker {
  readonly marked = new Set<string>();
  missing = 0;
  private readonly read = new Set<string>();
  private dirs: string[] = [];

  /** Marks one reference found in a root document (anything malformed is ignored, not fatal). */
  add(ref: OutputRef | undefined): void {
    const hash = ref?.hash;
    if (typeof hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(hash)) return;
    this.marked.add(hash);
    if (ref?.type === 'directory' && !this.read.has(hash)) {
      this.read.add(hash);
      this.dirs.push(hash);
    }
  }

  /** Reads the manifests of the directories marked since the last call and marks their files. */
  async drain(): Promise<void> {
    while (this.dirs.length) {
      const batch = this.dirs;
      this.dirs = [];
      await mapLimit(batch, MANIFESTS_IN_FLIGHT, async (hash) => {
        try {
          for (const e of await readManifest(hash)) this.marked.add(e.hash);
        } catch (e) {
          if (e instanceof DataError && e.code === 'artifact-not-found') this.missing++;
          // Recorded as a directory but stored as a plain file: the blob is marked, it lists nothing.
          else if (e instanceof DataError && e.code === 'not-a-directory') return;
          else if (e instanceof DataError && e.code === 'integrity')
            throw new DataError(
              'integrity',
              `Artifact GC stopped, before deleting any file: ${e.message} The files of that directory cannot be known, so no file can be judged unreferenced; restore or delete that manifest, then run the GC again.`,
            );
          else throw e;
        }
      });
    }
  }
}

/** Pages through a query with continuation tokens, handing each page to `each`. */
async function forEachPage<T>(
  c: Container,
  query: string,
  since: number | undefined,
  each: (items: T[]) => Promise<void> | void,
): Promise<void> {
  const spec =
    since === undefined
      ? { query }
      : { query: `${query} AND c._ts >= @since`, parameters: [{ name: '@since', value: since }] };
  let token: string | undefined;
  do {
    const page = await queryPage<T>(c, spec, {
      limit: ROOT_PAGE,
      ...(token ? { continuationToken: token } : {}),
    });
    await each(page.items);
    token = page.continuationToken;
  } while (token);
}

/** An unreferenced blob old enough to collect, as listed. */
interface Candidate {
  name: string;
  etag?: string;
  manifest: boolean;
  blob: CollectedBlob;
}

interface MarkResult {
  roots: GcReport['roots'];
  oldestActive?: { runId: string; status: string; createdAt: string };
}

/** One pass over the root documents (all, or only those changed since `since`, epoch seconds). */
async function markRoots(marker: Marker, since?: number): Promise<MarkResult> {
  const clients = getClients();
  const roots = { datasetVersions: 0, cacheEntries: 0, runs: 0 };
  let oldestActive: MarkResult['oldestActive'];

  const datasets = await clients.container(DATASETS_CONTAINER, '/name');
  await forEachPage<OutputRef>(
    datasets,
    "SELECT c.hash, c.type FROM c WHERE c.kind = 'version'",
    since,
    async (items) => {
      roots.datasetVersions += items.length;
      for (const v of items) marker.add(v);
      await marker.drain();
    },
  );

  const cache = await clients.container(CACHE_CONTAINER, '/key');
  await forEachPage<{ outputs?: Record<string, OutputRef> }>(
    cache,
    "SELECT c.outputs FROM c WHERE c.id = 'entry'",
    since,
    async (items) => {
      roots.cacheEntries += items.length;
      for (const e of items) for (const o of Object.values(e.outputs ?? {})) marker.add(o);
      await marker.drain();
    },
  );

  const runs = await clients.container(RUNS_CONTAINER, '/runId');
  await forEachPage<RunRoot>(
    runs,
    // Step records live in the run's step pages (lib/runs/step-pages.ts), older runs' in the run document.
    "SELECT c.runId, c.type, c.status, c.createdAt, c.resolvedInputs, c.steps FROM c WHERE c.type = 'run' OR c.type = 'steps'",
    since,
    async (items) => {
      roots.runs += items.filter((r) => r.type === 'run').length;
      for (const r of items) {
        for (const i of Object.values(r.resolvedInputs ?? {})) marker.add(i);
        for (const s of Object.values(r.steps ?? {}))
          for (const o of Object.values(s?.outputs ?? {})) marker.add(o);
        if (r.type !== 'run') continue;
        if (!ENDED.has(r.status) && (!oldestActive || r.createdAt < oldestActive.createdAt))
          oldestActive = { runId: r.runId, status: r.status, createdAt: r.createdAt };
      }
      await marker.drain();
    },
  );
  return { roots, ...(oldestActive ? { oldestActive } : {}) };
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
  const collected = (b: CollectedBlob): void => {
    report.deleted++;
    report.bytesFreed += b.size;
    if (report.collected.length < MAX_LISTED) report.collected.push(b);
    else report.collectedTruncated = true;
  };

  const container = opts.container ?? getClients().blob.getContainerClient(ARTIFACTS_CONTAINER);
  const lineage = await getClients().container(LINEAGE_CONTAINER, '/hash');

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
  report.finishedAt = new Date().toISOString();
  log(gcSummary(report));
  return report;
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
