/**
 * Writing content into the store: streams (`putStream`: uploads, tar entries), local files (`putFile`),
 * local directories (`putDirectory`) and manifests (`putManifest`).
 *
 * Streams are hashed while they upload, in one pass: bytes are staged as blocks of a temporary blob,
 * then committed and copied server-side under the hash name (a same-account copy moves no bytes through
 * this process; measured no slower than a plain upload on Azurite). Content of at most one block is held
 * and hashed first, so it is never sent when it exists. Local files can be read twice cheaply, so they
 * are hashed first, checked for existence, and only then uploaded straight to the hash name, hashed
 * again during the upload and committed only if unchanged: existing content is never sent. Hashes of
 * files already stored by this process are cached by file identity (dev, inode, size, mtime, ctime),
 * which skips even the reading. Every create is conditional (`If-None-Match: *`), so concurrent writers
 * of one content are harmless. Memory is bounded by block size × blocks in flight × files in flight,
 * whatever the artifact size.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  MANIFEST_KIND,
  TMP_PREFIX,
  blobName,
  isStatus,
  presentForReuse,
  reuseIfStored,
  store,
  type BlockBlob,
} from './cas-blobs';
import { hashFile, walk } from './cas-hashing';
import { DataError } from './errors';
import { encodeManifest, sha256, type Manifest, type ManifestEntry } from './hash';
import { createLimiter, mapLimit } from './limit';

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
