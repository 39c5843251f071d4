/**
 * Addresses of local content without storing it: a file's sha256, and a directory's (the hash of the
 * manifest it would be stored under). Reads only; nothing here touches storage. The directory walk is
 * shared with `putDirectory`, so a hashed directory and a stored one list the same files.
 */
import { createHash } from 'node:crypto';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { DataError } from './errors';
import { encodeManifest, normalizeMode, type Manifest, type ManifestEntry } from './hash';
import { mapLimit } from './limit';

export interface LocalFile {
  rel: string;
  abs: string;
  size: number;
  mode: number;
}

/**
 * Every regular file under `root` (a symbolic link to a file counts as that file), and in `skipped` the
 * symbolic links that lead to no file: links to directories are not followed, as they may form cycles.
 */
export async function walk(root: string): Promise<{ files: LocalFile[]; skipped: string[] }> {
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
