/**
 * The store's blobs: the `artifacts` container, the name of each content (`sha256/<hex>`), existence,
 * file-or-directory, and the refresh that makes reusing stored content safe against the artifact GC.
 * Every other part of the store reaches Blob storage through `store()` here. Imported only by the other
 * `cas-*.ts` modules; everyone else imports `cas.ts`.
 */
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { getClients } from '../azure/clients';
import { getClock } from '../host/clock';
import { DataError } from './errors';
import { hashHex } from './hash';

export const ARTIFACTS_CONTAINER = 'artifacts';
/** Where streams are staged while they are hashed (`tmp/<uuid>`); `tmp-sweep.ts` removes orphans. */
export const TMP_PREFIX = 'tmp/';
/** Blob metadata `sluicekind` of a directory manifest. */
export const MANIFEST_KIND = 'manifest';

export type ArtifactType = 'file' | 'directory';

const containers = new WeakMap<BlobServiceClient, Promise<ContainerClient>>();

/** The `artifacts` container, created on first use (once per storage client). */
export async function store(): Promise<ContainerClient> {
  const blob = getClients().blob;
  let p = containers.get(blob);
  if (!p) {
    const c = blob.getContainerClient(ARTIFACTS_CONTAINER);
    p = c.createIfNotExists().then(() => c);
    p.catch(() => containers.delete(blob));
    containers.set(blob, p);
  }
  return p;
}

export type BlockBlob = ReturnType<ContainerClient['getBlockBlobClient']>;

/** The blob name for a content hash. */
export function blobName(hash: string): string {
  return `sha256/${hashHex(hash)}`;
}

/** Whether a storage error has one of these HTTP statuses. */
export function isStatus(err: unknown, ...codes: number[]): boolean {
  return codes.includes((err as { statusCode?: number })?.statusCode ?? -1);
}

export async function exists(hash: string): Promise<boolean> {
  const c = await store();
  return c.getBlockBlobClient(blobName(hash)).exists();
}

/**
 * Stored content last modified longer ago than this is refreshed when a writer reuses it instead of
 * storing it again. Well under the artifact GC's least grace period (1 h), so whoever reuses content
 * has at least 50 minutes to record its reference.
 */
export const REFRESH_AFTER_MS = 10 * 60_000;

/**
 * Whether content is stored, asked by a writer about to skip storing it. The artifact GC (gc.ts)
 * deletes unreferenced blobs by last-modified time, and a writer that reuses an old unreferenced blob
 * records its reference only afterwards: so an old blob is refreshed first (its metadata rewritten
 * unchanged, conditional on the ETag just read), which restarts the GC's grace period and fails a GC
 * delete that listed the old ETag. False when the blob is absent, or was deleted between the two
 * requests (the caller then stores the bytes again).
 */
export async function presentForReuse(blob: BlockBlob): Promise<boolean> {
  let p;
  try {
    p = await blob.getProperties();
  } catch (e) {
    if (isStatus(e, 404)) return false;
    throw e;
  }
  // The host clock, as the GC's cut-off uses (manual in tests, so both see the same "old").
  if (getClock().now() - (p.lastModified?.getTime() ?? 0) < REFRESH_AFTER_MS) return true;
  try {
    await blob.setMetadata(p.metadata ?? {}, { conditions: { ifMatch: p.etag } });
  } catch (e) {
    if (isStatus(e, 404)) return false;
    // 412: changed since the read, i.e. refreshed (or re-created) by another writer just now.
    if (!isStatus(e, 412)) throw e;
  }
  return true;
}

/** `presentForReuse` by hash, for writers that hold only the hash (blob-path dataset registration). */
export async function reuseIfStored(hash: string): Promise<boolean> {
  const c = await store();
  return presentForReuse(c.getBlockBlobClient(blobName(hash)));
}

/** Whether a stored hash is a file or a directory manifest; artifact-not-found when absent. */
export async function artifactType(hash: string): Promise<{ type: ArtifactType; size: number }> {
  const c = await store();
  try {
    const p = await c.getBlockBlobClient(blobName(hash)).getProperties();
    return {
      type: p.metadata?.sluicekind === MANIFEST_KIND ? 'directory' : 'file',
      size: p.contentLength ?? 0,
    };
  } catch (e) {
    if (isStatus(e, 404)) throw notStored(hash);
    throw e;
  }
}

export function notStored(hash: string): DataError {
  return new DataError(
    'artifact-not-found',
    `Artifact ${hash} is not in the store (container "${ARTIFACTS_CONTAINER}"); it was never uploaded or has been deleted.`,
  );
}
