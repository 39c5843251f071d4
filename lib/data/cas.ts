/**
 * The content-addressed store: Blob container `artifacts`, one blob per distinct content, named
 * `sha256/<hex>`. Directory manifests are blobs too (metadata `sluicekind=manifest`). Only Blob storage
 * is used here, so remote agents that can reach nothing but the storage account can store and fetch.
 *
 * Streams (`putStream`: uploads, tar entries) are hashed while they upload, in one pass: bytes are staged
 * as blocks of a temporary blob, then committed and copied server-side under the hash name (a
 * same-account copy moves no bytes through this process; measured no slower than a plain upload on
 * Azurite). Content of at most one block is held and hashed first, so it is never sent when it exists.
 * Local files (`putFile`, `putDirectory`) can be read twice cheaply, so they are hashed first, checked
 * for existence, and only then uploaded straight to the hash name, hashed again during the upload and
 * committed only if unchanged: existing content is never sent. Hashes of files already stored by this
 * process are cached by file identity (dev, inode, size, mtime, ctime), which skips even the reading.
 * Memory is bounded by block size × blocks in flight × files in flight, whatever the artifact size.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { getClients } from '../azure/clients';
import { getClock } from '../host/clock';
import { DataError } from './errors';
import {
  decodeManifest,
  encodeManifest,
  hashHex,
  normalizeMode,
  safeRelativePath,
  sha256,
  type Manifest,
  type ManifestEntry,
} from './hash';
import { createLimiter, mapLimit } from './limit';

export const ARTIFACTS_CONTAINER = 'artifacts';
/** Where streams are staged while they are hashed (`tmp/<uuid>`); `tmp-sweep.ts` removes orphans. */
export const TMP_PREFIX = 'tmp/';
/** Block size for staged uploads; also the largest content that is hashed before it is sent. */
export const BLOCK_SIZE = 4 * 1024 * 1024;
/** Blocks of one stream being uploaded at once. */
const BLOCKS_IN_FLIGHT = 4;
/** Files of a directory processed at once (small ones are read whole, so this bounds memory too). */
const FILES_IN_FLIGHT = 16;
/** Large files streamed at once within a directory. */
const LARGE_FILES_IN_FLIGHT = 2;
/** Files read whole (≤ one block) but over this size are limited further, keeping buffered bytes low. */
const MEDIUM_FILE = 256 * 1024;
const MEDIUM_FILES_IN_FLIGHT = 4;
const MANIFEST_KIND = 'manifest';

export type ArtifactType = 'file' | 'directory';

export interface PutResult {
  hash: string;
  /** Bytes of content (for a directory, the sum of its files). */
  size: number;
  /** Bytes sent to storage by this call (0 when everything already existed). */
  uploadedBytes: number;
  /** Blobs created by this call (files, plus the manifest for a directory). */
  uploadedBlobs: number;
}

export interface PutDirectoryResult extends PutResult {
  files: number;
  manifest: Manifest;
  /** Symbolic links to directories, which are not followed (they may form cycles). */
  skipped: string[];
}

const containers = new WeakMap<BlobServiceClient, Promise<ContainerClient>>();

async function store(): Promise<ContainerClient> {
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

type BlockBlob = ReturnType<ContainerClient['getBlockBlobClient']>;

/** The blob name for a content hash. */
export function blobName(hash: string): string {
  return `sha256/${hashHex(hash)}`;
}

function isStatus(err: unknown, ...codes: number[]): boolean {
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
async function presentForReuse(blob: BlockBlob): Promise<boolean> {
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

/** `presentForReuse` by hash, for writers outside this module (blob-path dataset registration). */
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

function notStored(hash: string): DataError {
  return new DataError(
    'artifact-not-found',
    `Artifact ${hash} is not in the store (container "${ARTIFACTS_CONTAINER}"); it was never uploaded or has been deleted.`,
  );
}

/** Uploads bytes whose hash is known, unless a blob with that hash already exists (races are harmless). */
async function putKnown(hash: string, bytes: Buffer, kind?: string): Promise<boolean> {
  const c = await store();
  const blob = c.getBlockBlobClient(blobName(hash));
  if (await presentForReuse(blob)) return false;
  try {
    await blob.uploadData(bytes, {
      conditions: { ifNoneMatch: '*' },
      metadata: kind ? { sluicekind: kind } : undefined,
      blobHTTPHeaders: {
        blobContentType: kind === MANIFEST_KIND ? 'application/json' : 'application/octet-stream',
      },
    });
    return true;
  } catch (e) {
    if (isStatus(e, 409, 412)) return false; // someone stored the same content meanwhile
    throw e;
  }
}

/**
 * Stages a byte stream as blocks of `target()` (asked for on the first full block) while hashing it.
 * Content of at most one block is never staged: it comes back in `held` for a hash-first put.
 * Block ids carry a per-upload prefix, so concurrent uploads to one name never mix their blocks.
 */
async function stageWhileHashing(
  source: Readable | AsyncIterable<Uint8Array>,
  target: () => BlockBlob,
): Promise<{
  hash: string;
  size: number;
  blob?: BlockBlob;
  blockIds: string[];
  held?: Buffer;
  uploadedBytes: number;
}> {
  const hasher = createHash('sha256');
  const upload = randomUUID().slice(0, 8);
  let size = 0;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let blob: BlockBlob | undefined;
  const blockIds: string[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  let uploadedBytes = 0;

  const stage = async (block: Buffer): Promise<void> => {
    blob ??= target();
    const id = Buffer.from(`${upload}-${String(blockIds.length).padStart(8, '0')}`).toString('base64');
    blockIds.push(id);
    uploadedBytes += block.length;
    const p: Promise<void> = blob.stageBlock(id, block, block.length).then(
      () => void inflight.delete(p),
      (err: unknown) => {
        inflight.delete(p);
        failure ??= { err };
      },
    );
    inflight.add(p);
    if (inflight.size >= BLOCKS_IN_FLIGHT) await Promise.race(inflight);
    if (failure) throw failure.err;
  };

  for await (const chunk of source) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    hasher.update(b);
    size += b.length;
    pending.push(b);
    pendingLen += b.length;
    // Strictly greater: content of exactly one block is still held whole.
    while (pendingLen > BLOCK_SIZE) {
      const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLen);
      const rest = Buffer.from(all.subarray(BLOCK_SIZE));
      pending = rest.length ? [rest] : [];
      pendingLen = rest.length;
      await stage(all.subarray(0, BLOCK_SIZE));
    }
  }
  const hash = 'sha256:' + hasher.digest('hex');
  if (!blob) return { hash, size, blockIds, held: Buffer.concat(pending, pendingLen), uploadedBytes: 0 };
  if (pendingLen > 0) await stage(Buffer.concat(pending, pendingLen));
  await Promise.all(inflight);
  if (failure) throw failure.err;
  return { hash, size, blob, blockIds, uploadedBytes };
}

/**
 * Stores a stream's content under its hash, hashing as it uploads, in one pass. Content of at most one
 * block is held and checked for existence before sending; longer content is staged on a temporary
 * blob and copied server-side under its hash name once the hash is known (or dropped when that name
 * already exists: a stream cannot be asked for its hash before it is read).
 */
export async function putStream(readable: Readable | AsyncIterable<Uint8Array>): Promise<PutResult> {
  const c = await store();
  const r = await stageWhileHashing(readable, () => c.getBlockBlobClient(`${TMP_PREFIX}${randomUUID()}`));
  const { hash, size } = r;
  if (!r.blob) {
    const sent = await putKnown(hash, r.held!);
    return { hash, size, uploadedBytes: sent ? size : 0, uploadedBlobs: sent ? 1 : 0 };
  }
  const temp = r.blob;
  const final = c.getBlockBlobClient(blobName(hash));
  if (await presentForReuse(final)) {
    await temp.deleteIfExists().catch(() => undefined); // uncommitted blocks also expire on their own
    return { hash, size, uploadedBytes: r.uploadedBytes, uploadedBlobs: 0 };
  }
  await temp.commitBlockList(r.blockIds, {
    blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
  });
  let created = true;
  try {
    const poller = await final.beginCopyFromURL(temp.url, { conditions: { ifNoneMatch: '*' } });
    await poller.pollUntilDone();
  } catch (e) {
    if (!isStatus(e, 409, 412)) throw e;
    created = false;
  } finally {
    await temp.deleteIfExists().catch(() => undefined);
  }
  return { hash, size, uploadedBytes: r.uploadedBytes, uploadedBlobs: created ? 1 : 0 };
}

/**
 * Uploads a local file whose hash was just computed straight to its hash name, hashing again as it
 * goes; the blocks are committed only when the bytes sent still have that hash (a file changed in
 * between leaves nothing behind).
 */
async function uploadFileAs(path: string, hash: string): Promise<PutResult> {
  const c = await store();
  const final = c.getBlockBlobClient(blobName(hash));
  const r = await stageWhileHashing(createReadStream(path, { highWaterMark: 1024 * 1024 }), () => final);
  if (r.hash !== hash)
    throw new DataError(
      'invalid-content',
      `${path} changed while it was being stored (its hash moved from ${hash} to ${r.hash}); store it again once it is complete.`,
    );
  if (!r.blob) {
    const sent = await putKnown(hash, r.held!);
    return { hash, size: r.size, uploadedBytes: sent ? r.size : 0, uploadedBlobs: sent ? 1 : 0 };
  }
  try {
    await final.commitBlockList(r.blockIds, {
      conditions: { ifNoneMatch: '*' },
      blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
    });
    return { hash, size: r.size, uploadedBytes: r.uploadedBytes, uploadedBlobs: 1 };
  } catch (e) {
    if (isStatus(e, 409, 412))
      return { hash, size: r.size, uploadedBytes: r.uploadedBytes, uploadedBlobs: 0 };
    throw e;
  }
}

/** Hashes of files already stored by this process, keyed by file identity and change times. */
const hashCache = new Map<string, string>();
const HASH_CACHE_MAX = 200_000;

function identity(st: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function remember(key: string, hash: string): void {
  if (hashCache.size >= HASH_CACHE_MAX) hashCache.clear();
  hashCache.set(key, hash);
}

/** Stores one local file under its content hash. */
export async function putFile(path: string): Promise<PutResult> {
  let st;
  try {
    st = await stat(path, { bigint: true });
  } catch (e) {
    throw new DataError(
      'invalid-content',
      `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
    );
  }
  if (!st.isFile()) throw new DataError('invalid-content', `${path} is not a regular file.`);
  const key = identity(st);
  const size = Number(st.size);
  const cached = hashCache.get(key);
  if (cached && (await reuseIfStored(cached)))
    return { hash: cached, size, uploadedBytes: 0, uploadedBlobs: 0 };
  let result: PutResult;
  if (size <= BLOCK_SIZE) {
    const bytes = await readFile(path);
    const hash = sha256(bytes);
    const sent = await putKnown(hash, bytes);
    result = {
      hash,
      size: bytes.length,
      uploadedBytes: sent ? bytes.length : 0,
      uploadedBlobs: sent ? 1 : 0,
    };
  } else {
    // A local file can be read twice cheaply; hashing first means existing content is never sent.
    const { hash } = await hashFile(path);
    result = (await reuseIfStored(hash))
      ? { hash, size, uploadedBytes: 0, uploadedBlobs: 0 }
      : await uploadFileAs(path, hash);
  }
  remember(key, result.hash);
  return result;
}

interface LocalFile {
  rel: string;
  abs: string;
  size: number;
  mode: number;
}

async function walk(root: string): Promise<{ files: LocalFile[]; skipped: string[] }> {
  const files: LocalFile[] = [];
  const skipped: string[] = [];
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, d.name);
      const rel = relative(root, abs).split(sep).join('/');
      if (d.isDirectory()) stack.push(abs);
      else if (d.isFile() || d.isSymbolicLink()) {
        const st = d.isFile() ? await lstat(abs) : await stat(abs).catch(() => undefined);
        if (st?.isFile()) files.push({ rel, abs, size: st.size, mode: normalizeMode(st.mode) });
        else skipped.push(rel);
      }
    }
  }
  return { files, skipped };
}

/** Stores a local directory: every file, then its manifest. Returns the manifest's hash. */
export async function putDirectory(dir: string): Promise<PutDirectoryResult> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new DataError('invalid-content', `${dir} is not a directory.`);
  const { files, skipped } = await walk(dir);
  const large = createLimiter(LARGE_FILES_IN_FLIGHT);
  const medium = createLimiter(MEDIUM_FILES_IN_FLIGHT);
  let uploadedBytes = 0;
  let uploadedBlobs = 0;
  let size = 0;
  const entries = await mapLimit(files, FILES_IN_FLIGHT, async (f): Promise<ManifestEntry> => {
    const r =
      f.size > BLOCK_SIZE
        ? await large(() => putFile(f.abs))
        : f.size > MEDIUM_FILE
          ? await medium(() => putFile(f.abs))
          : await putFile(f.abs);
    uploadedBytes += r.uploadedBytes;
    uploadedBlobs += r.uploadedBlobs;
    size += r.size;
    return { path: f.rel, hash: r.hash, size: r.size, mode: f.mode };
  });
  const m = await putManifest(entries);
  return {
    hash: m.hash,
    size,
    files: entries.length,
    manifest: m.manifest,
    skipped,
    uploadedBytes: uploadedBytes + m.uploadedBytes,
    uploadedBlobs: uploadedBlobs + m.uploadedBlobs,
  };
}

/** Forgets cached file hashes (benchmarks and tests measuring cold puts). */
export function clearHashCache(): void {
  hashCache.clear();
}

/** The content hash of a local file, read as a stream (nothing is uploaded). */
export async function hashFile(path: string): Promise<{ hash: string; size: number }> {
  // Plain reads into one reused buffer: no stream machinery or per-chunk allocation on the hot path.
  const fh = await open(path, 'r');
  try {
    const hasher = createHash('sha256');
    const { size: statSize } = await fh.stat();
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(statSize + 1, 2 * 1024 * 1024)));
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hasher.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { hash: 'sha256:' + hasher.digest('hex'), size };
  } finally {
    await fh.close();
  }
}

/**
 * The hash a directory would be stored under, without uploading anything (e.g. to ask the store or a
 * cache whether it is already known).
 */
export async function hashDirectory(
  dir: string,
): Promise<{ hash: string; size: number; manifest: Manifest }> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new DataError('invalid-content', `${dir} is not a directory.`);
  const { files } = await walk(dir);
  const entries = await mapLimit(files, 4, async (f): Promise<ManifestEntry> => {
    const r = await hashFile(f.abs);
    return { path: f.rel, hash: r.hash, size: r.size, mode: f.mode };
  });
  const { bytes, hash } = encodeManifest(entries);
  const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  return { hash, size: manifest.reduce((n, e) => n + e.size, 0), manifest };
}

/** Stores a manifest built elsewhere (tar uploads, registered blob prefixes); its files must be stored. */
export async function putManifest(entries: Manifest): Promise<PutResult & { manifest: Manifest }> {
  const { bytes, hash } = encodeManifest(entries);
  const sent = await putKnown(hash, bytes, MANIFEST_KIND);
  if (!sent) await markManifest(hash);
  const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  return {
    hash,
    size: manifest.reduce((n, e) => n + e.size, 0),
    manifest,
    uploadedBytes: sent ? bytes.length : 0,
    uploadedBlobs: sent ? 1 : 0,
  };
}

/** The same bytes may have been stored as a plain file first; make sure the blob is known as a manifest. */
async function markManifest(hash: string): Promise<void> {
  const c = await store();
  const blob = c.getBlockBlobClient(blobName(hash));
  const p = await blob.getProperties();
  if (p.metadata?.sluicekind !== MANIFEST_KIND)
    await blob.setMetadata({ ...p.metadata, sluicekind: MANIFEST_KIND });
}

/** A pass-through that hashes and fails at the end when the bytes are not the expected content. */
export class VerifyingStream extends Transform {
  private readonly hasher = createHash('sha256');
  constructor(private readonly expected: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hasher.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const actual = 'sha256:' + this.hasher.digest('hex');
    cb(actual === this.expected ? null : integrity(this.expected, actual));
  }
}

function integrity(expected: string, actual: string): DataError {
  return new DataError(
    'integrity',
    `The stored bytes of ${expected} hash to ${actual}: the blob is corrupt. Delete it (container "${ARTIFACTS_CONTAINER}", blob "${blobName(expected)}") and upload the content again.`,
  );
}

async function download(
  hash: string,
): Promise<{ body: NodeJS.ReadableStream; size: number; type: ArtifactType }> {
  const c = await store();
  try {
    const res = await c.getBlockBlobClient(blobName(hash)).download(0, undefined, { maxRetryRequests: 5 });
    return {
      body: res.readableStreamBody!,
      size: res.contentLength ?? 0,
      type: res.metadata?.sluicekind === MANIFEST_KIND ? 'directory' : 'file',
    };
  } catch (e) {
    if (isStatus(e, 404)) throw notStored(hash);
    throw e;
  }
}

/**
 * A stream of a stored file's bytes (or a manifest's JSON) for HTTP downloads. It errors at the end,
 * instead of ending cleanly, when the bytes do not match the hash.
 */
export async function openFile(
  hash: string,
): Promise<{ stream: Readable; size: number; type: ArtifactType }> {
  hashHex(hash);
  const d = await download(hash);
  const verify = new VerifyingStream(hash);
  (d.body as Readable).on('error', (e) => verify.destroy(e));
  return { stream: (d.body as Readable).pipe(verify), size: d.size, type: d.type };
}

const manifests = new Map<string, Manifest>();

/** A directory's manifest, hash-verified (manifests are immutable, so a few are kept in memory). */
export async function readManifest(hash: string): Promise<Manifest> {
  hashHex(hash);
  const hit = manifests.get(hash);
  if (hit) return hit;
  const c = await store();
  let bytes: Buffer;
  let kind: string | undefined;
  try {
    const blob = c.getBlockBlobClient(blobName(hash));
    const res = await blob.download();
    kind = res.metadata?.sluicekind;
    const chunks: Buffer[] = [];
    for await (const ch of res.readableStreamBody as Readable) chunks.push(ch as Buffer);
    bytes = Buffer.concat(chunks);
  } catch (e) {
    if (isStatus(e, 404)) throw notStored(hash);
    throw e;
  }
  const actual = sha256(bytes);
  if (actual !== hash) throw integrity(hash, actual);
  if (kind !== MANIFEST_KIND) throw new DataError('not-a-directory', `${hash} is a file, not a directory.`);
  const manifest = decodeManifest(bytes, hash);
  if (manifests.size >= 64) manifests.delete(manifests.keys().next().value!);
  manifests.set(hash, manifest);
  return manifest;
}

/** One file of a stored directory, by its relative path (`a/b.txt`; a leading `./` or `/` is ignored). */
export async function fileInDirectory(manifestHash: string, relPath: string): Promise<ManifestEntry> {
  const manifest = await readManifest(manifestHash);
  const want = relPath.replace(/^(\.\/|\/)+/, '');
  const entry = manifest.find((e) => e.path === want);
  if (!entry) {
    const prefix = want.endsWith('/') ? want : want + '/';
    const inside = manifest.filter((e) => e.path.startsWith(prefix)).length;
    throw new DataError(
      'path-not-found',
      inside > 0
        ? `"${want}" is a folder inside directory ${manifestHash} (${inside} files); ask for one file.`
        : `Directory ${manifestHash} has no file "${want}" (it has ${manifest.length} files).`,
    );
  }
  return entry;
}

async function downloadTo(hash: string, dest: string, mode?: number): Promise<number> {
  const d = await download(hash);
  const tmp = `${dest}.sluice-${randomUUID().slice(0, 8)}.part`;
  try {
    await pipeline(
      d.body as Readable,
      new VerifyingStream(hash),
      createWriteStream(tmp, { mode: mode ?? 0o644 }),
    );
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, dest);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return d.size;
}

/**
 * Writes a stored file to `destPath`, or a stored directory into `destPath` (created), verifying every
 * file's hash. Files appear only complete (written aside, then renamed).
 */
export async function materialize(
  hash: string,
  type: ArtifactType,
  destPath: string,
): Promise<{ files: number; size: number }> {
  hashHex(hash);
  if (type === 'file') {
    await mkdir(dirname(destPath), { recursive: true });
    return { files: 1, size: await downloadTo(hash, destPath) };
  }
  const manifest = await readManifest(hash);
  await mkdir(destPath, { recursive: true });
  const dirs = new Set(manifest.map((e) => dirname(e.path)).filter((d) => d !== '.'));
  for (const d of [...dirs].sort()) await mkdir(join(destPath, d), { recursive: true });
  let size = 0;
  await mapLimit(manifest, 8, async (e) => {
    if (!safeRelativePath(e.path))
      throw new DataError('not-a-directory', `Manifest ${hash} has an unsafe path "${e.path}".`);
    size += await downloadTo(e.hash, join(destPath, e.path), e.mode);
  });
  return { files: manifest.length, size };
}

/** Reads a whole stored file into memory (small files only: manifests, metrics). */
export async function readSmall(hash: string, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const { stream, size } = await openFile(hash);
  if (size > limit) {
    stream.destroy();
    throw new DataError(
      'invalid-content',
      `${hash} is ${size} bytes, more than the ${limit} this call reads.`,
    );
  }
  const chunks: Buffer[] = [];
  for await (const ch of stream) chunks.push(ch as Buffer);
  return Buffer.concat(chunks);
}
