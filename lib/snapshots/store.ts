import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, symlink, chmod, rename } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerClient } from '@azure/storage-blob';
import { getClients } from '../azure/clients';
import { ProblemError, invalid, notFound } from '../errors/problem';
import { snapshotLimits, type SnapshotLimits } from './limits';
import {
  SNAPSHOT_REF_PREFIX,
  manifestHash,
  parseSnapshotArchive,
  safeEntryPath,
  type SnapshotManifest,
} from './manifest';

/**
 * Content-addressed code snapshots in the Blob container `snapshots`:
 * - `files/<sha256 hex>`: each distinct file content once, shared by every snapshot that holds it;
 * - `manifests/<sha256 hex>.json`: the manifest, named by its own hash (the snapshot hash).
 * A file blob is written before any manifest refers to it, and nothing is written when it exists, so
 * uploading the same tree twice stores nothing new and a small edit uploads only the changed files.
 */

export const SNAPSHOTS_CONTAINER = 'snapshots';

export interface SnapshotResult {
  /** `snapshot:sha256:<hex>`: what a definition's `code` holds. */
  ref: string;
  /** `sha256:<hex>` of the manifest. */
  hash: string;
  files: number;
  bytes: number;
  /** False when the snapshot already existed. */
  created: boolean;
}

let ensured: { key: string; p: Promise<ContainerClient> } | undefined;

async function container(): Promise<ContainerClient> {
  const clients = getClients();
  const key = clients.settings.storageConnectionString;
  if (ensured?.key !== key) {
    const c = clients.blob.getContainerClient(SNAPSHOTS_CONTAINER);
    const p = c.createIfNotExists().then(() => c);
    p.catch(() => (ensured = undefined));
    ensured = { key, p };
  }
  return ensured.p;
}

const fileBlob = (hash: string): string => `files/${hash.replace(/^sha256:/, '')}`;
const manifestBlob = (hex: string): string => `manifests/${hex}.json`;

/** Stores a tar.gz upload; see the module comment for what is written. */
export async function storeSnapshot(
  archive: Buffer,
  limits: SnapshotLimits = snapshotLimits(),
): Promise<SnapshotResult> {
  const parsed = await parseSnapshotArchive(archive, limits);
  const c = await container();
  const result = (created: boolean): SnapshotResult => ({
    ref: SNAPSHOT_REF_PREFIX + parsed.hash,
    hash: 'sha256:' + parsed.hash,
    files: parsed.files,
    bytes: parsed.bytes,
    created,
  });
  const mBlob = c.getBlockBlobClient(manifestBlob(parsed.hash));
  if (await mBlob.exists()) return result(false);
  for (const [hash, content] of parsed.contents) {
    const b = c.getBlockBlobClient(fileBlob(hash));
    if (await b.exists()) continue;
    await b.uploadData(content, { blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
  }
  const body = Buffer.from(JSON.stringify(parsed.manifest));
  try {
    // If-None-Match: * — a concurrent upload of the same tree wrote identical bytes; either is fine.
    await mBlob.uploadData(body, {
      blobHTTPHeaders: { blobContentType: 'application/json' },
      conditions: { ifNoneMatch: '*' },
    });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 409 || status === 412) return result(false);
    throw e;
  }
  return result(true);
}

/**
 * A snapshot holding only the given entries of another (`code: { path, include }`): a new manifest over
 * file blobs that are already stored, so nothing but the manifest is written, and the same selection of
 * the same tree is always the same snapshot. The caller has read `manifest` from `getSnapshotManifest`.
 */
export async function storeNarrowedSnapshot(
  manifest: SnapshotManifest,
  keep: ReadonlySet<string>,
): Promise<SnapshotResult> {
  const narrowed: SnapshotManifest = {
    format: manifest.format,
    entries: manifest.entries.filter((e) => keep.has(e.path)),
  };
  const hex = manifestHash(narrowed);
  const c = await container();
  const mBlob = c.getBlockBlobClient(manifestBlob(hex));
  const result = (created: boolean): SnapshotResult => ({
    ref: SNAPSHOT_REF_PREFIX + hex,
    hash: 'sha256:' + hex,
    files: narrowed.entries.length,
    bytes: narrowed.entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0),
    created,
  });
  try {
    await mBlob.uploadData(Buffer.from(JSON.stringify(narrowed)), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
      conditions: { ifNoneMatch: '*' },
    });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 409 || status === 412) return result(false);
    throw e;
  }
  return result(true);
}

/** Hex of a `snapshot:sha256:<hex>` (or `sha256:<hex>`) reference; 400 otherwise. */
export function parseSnapshotRef(ref: string): string {
  const m = /^(?:snapshot:)?sha256:([0-9a-f]{64})$/.exec(ref);
  if (!m)
    throw invalid([
      {
        pointer: '',
        message: `"${ref}" is not a snapshot reference; it looks like snapshot:sha256:<64 hex>.`,
      },
    ]);
  return m[1]!;
}

export async function snapshotExists(ref: string): Promise<boolean> {
  const c = await container();
  return c.getBlockBlobClient(manifestBlob(parseSnapshotRef(ref))).exists();
}

export async function getSnapshotManifest(ref: string): Promise<SnapshotManifest> {
  const hex = parseSnapshotRef(ref);
  const c = await container();
  let buf: Buffer;
  try {
    buf = await c.getBlockBlobClient(manifestBlob(hex)).downloadToBuffer();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404)
      throw notFound(
        `There is no snapshot ${ref}. Upload the code with POST /api/snapshots (sluice publish does it for you).`,
      );
    throw e;
  }
  return JSON.parse(buf.toString('utf8')) as SnapshotManifest;
}

/**
 * Lays out a snapshot in `destDir` (created if missing; existing files with the same names are
 * replaced). Each file's content is verified against its hash while it streams; a mismatch fails the
 * extraction instead of running altered code. For compute agents preparing a step's working directory.
 */
export async function extractSnapshot(
  ref: string,
  destDir: string,
): Promise<{ files: number; bytes: number }> {
  const manifest = await getSnapshotManifest(ref);
  const c = await container();
  const root = resolve(destDir);
  await mkdir(root, { recursive: true });
  let bytes = 0;
  const inside = (p: string): string => {
    const safe = safeEntryPath(p);
    const full = 'path' in safe && safe.path ? resolve(root, safe.path) : '';
    if (!full || !full.startsWith(root + sep))
      throw new ProblemError(
        'internal',
        `Snapshot ${ref} holds an unsafe path "${p}"; refusing to extract it.`,
      );
    return full;
  };
  for (const e of manifest.entries) {
    const target = inside(e.path);
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { force: true, recursive: false }).catch(() => {});
    if (e.type === 'symlink') {
      await symlink(e.target, target);
      continue;
    }
    const res = await c.getBlockBlobClient(fileBlob(e.hash)).download();
    const hasher = createHash('sha256');
    const tmp = target + '.sluice-partial';
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hasher.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(res.readableStreamBody!, tap, createWriteStream(tmp, { mode: e.mode }));
    const got = 'sha256:' + hasher.digest('hex');
    if (got !== e.hash) {
      await rm(tmp, { force: true });
      throw new ProblemError(
        'internal',
        `Snapshot file ${e.path} does not match its hash (${got} ≠ ${e.hash}); the blob is corrupt.`,
      );
    }
    await rename(tmp, target);
    await chmod(target, e.mode);
    bytes += e.size;
  }
  return { files: manifest.entries.length, bytes };
}
