/**
 * Reading content out of the store, always checked against its hash: streams for HTTP downloads
 * (`openFile`, which errors at its end when the bytes are corrupt), directory manifests (`readManifest`,
 * verified before they are parsed, a few kept in memory as they are immutable), one file of a directory,
 * and `materialize`, which writes a file or a whole directory to disk. Files on disk appear only
 * complete: each is written aside, verified, then renamed into place.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ARTIFACTS_CONTAINER,
  MANIFEST_KIND,
  blobName,
  isStatus,
  notStored,
  store,
  type ArtifactType,
} from './cas-blobs';
import { DataError } from './errors';
import { decodeManifest, hashHex, safeRelativePath, sha256, type Manifest, type ManifestEntry } from './hash';
import { mapLimit } from './limit';

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
