import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { posix } from 'node:path';
import * as tar from 'tar-stream';
import { ProblemError, invalid } from '../errors/problem';
import { canonicalJson } from '../pipelines/canonical';
import type { SnapshotLimits } from './limits';

/**
 * A code snapshot is identified by its manifest: the sorted list of files (path, size, executable bit,
 * sha256) and symlinks (path, target). Timestamps, owners, tar ordering and compression do not enter
 * the identity, so the same tree always gives the same hash, however it was packed.
 */

export interface ManifestFile {
  path: string;
  type: 'file';
  size: number;
  /** 0o755 when any execute bit was set, else 0o644. */
  mode: number;
  /** `sha256:<hex>` of the content. */
  hash: string;
}

export interface ManifestLink {
  path: string;
  type: 'symlink';
  /** Relative target that stays inside the snapshot. */
  target: string;
}

export type ManifestEntry = ManifestFile | ManifestLink;

export interface SnapshotManifest {
  /** Format version of the manifest itself. */
  format: 1;
  entries: ManifestEntry[];
}

export const SNAPSHOT_REF_PREFIX = 'snapshot:sha256:';

export function manifestHash(m: SnapshotManifest): string {
  return createHash('sha256').update(canonicalJson(m)).digest('hex');
}

/** A parsed upload: the manifest and the content of each distinct file (by hash). */
export interface ParsedSnapshot {
  manifest: SnapshotManifest;
  /** Hex of the manifest hash. */
  hash: string;
  contents: Map<string, Buffer>;
  files: number;
  bytes: number;
}

/**
 * Normalises a path inside the snapshot, or explains why it is refused. Refused: absolute paths, drive
 * letters, backslashes, NUL, and any path that climbs out of the root with `..`.
 */
export function safeEntryPath(raw: string): { path: string } | { reason: string } {
  if (raw.includes('\0')) return { reason: 'contains a NUL character' };
  if (raw.includes('\\')) return { reason: 'contains a backslash; snapshots use "/" separators' };
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw))
    return { reason: 'is an absolute path; entries must be relative to the root' };
  const segments = raw.split('/');
  if (segments.includes('..')) return { reason: 'contains "..", which would escape the snapshot root' };
  const norm = posix
    .normalize(raw)
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '');
  if (norm === '' || norm === '.') return { path: '' };
  return { path: norm };
}

const tooLarge = (what: string, limit: number, setting: string): ProblemError =>
  new ProblemError(
    'too-large',
    `The snapshot ${what} exceeds the limit of ${limit}. Code snapshots are for source files: add large data to ` +
      `.sluiceignore and pass it as a dataset or input instead, or raise ${setting} on the server.`,
    undefined,
    { limit, setting },
  );

/** Reads a tar.gz upload into a manifest, enforcing the limits and refusing entries that escape the root. */
export async function parseSnapshotArchive(archive: Buffer, limits: SnapshotLimits): Promise<ParsedSnapshot> {
  if (archive.length > limits.maxCompressedBytes)
    throw tooLarge(
      `archive (${archive.length} bytes)`,
      limits.maxCompressedBytes,
      'SLUICE_SNAPSHOT_MAX_COMPRESSED_BYTES',
    );
  if (archive.length < 2 || archive[0] !== 0x1f || archive[1] !== 0x8b)
    throw invalid([
      {
        pointer: '',
        message:
          'The body is not gzip data. Send a tar.gz of the directory, e.g. `tar -czf - -C src . | curl --data-binary @- …`.',
      },
    ]);

  const problems: Array<{ pointer: string; message: string }> = [];
  const files = new Map<string, ManifestFile>();
  const links = new Map<string, ManifestLink>();
  const contents = new Map<string, Buffer>();
  let expanded = 0;
  let count = 0;

  const extract = tar.extract();
  const gunzip = createGunzip();
  let limitError: ProblemError | undefined;
  const source = Readable.from([archive]);
  source.pipe(gunzip).pipe(extract);
  gunzip.on('error', (e) => extract.destroy(e));

  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = h.name;
      const where = `/entries/${encodeURIComponent(name).slice(0, 200)}`;
      const safe = safeEntryPath(name);
      if ('reason' in safe) {
        problems.push({ pointer: where, message: `Entry "${name}" ${safe.reason}; it was rejected.` });
        entry.resume();
        continue;
      }
      const path = safe.path;
      if (h.type === 'directory' || path === '') {
        entry.resume();
        continue;
      }
      if (files.has(path) || links.has(path)) {
        problems.push({ pointer: where, message: `Entry "${path}" appears twice in the archive.` });
        entry.resume();
        continue;
      }
      count++;
      if (count > limits.maxFiles) {
        limitError = tooLarge(
          `has more than ${limits.maxFiles} files, which`,
          limits.maxFiles,
          'SLUICE_SNAPSHOT_MAX_FILES',
        );
        break;
      }
      if (h.type === 'symlink' || h.type === 'link') {
        const target = h.linkname ?? '';
        // tar hardlink names are relative to the archive root; symlink targets to the link's directory.
        const resolved = h.type === 'link' ? target : posix.join(posix.dirname(path), target);
        const inside =
          target !== '' &&
          !target.startsWith('/') &&
          !/^[A-Za-z]:/.test(target) &&
          !target.includes('\\') &&
          !posix.normalize(resolved).split('/').includes('..');
        if (!inside) {
          problems.push({
            pointer: where,
            message: `${h.type === 'link' ? 'Hard link' : 'Symlink'} "${path}" points to "${target}", outside the snapshot root; it was rejected. Copy the file into the directory instead.`,
          });
          entry.resume();
          continue;
        }
        if (h.type === 'link') {
          const orig = files.get(posix.normalize(resolved));
          if (!orig)
            problems.push({
              pointer: where,
              message: `Hard link "${path}" points to "${target}", which is not an earlier file in the archive.`,
            });
          else files.set(path, { ...orig, path });
        } else links.set(path, { path, type: 'symlink', target: posix.normalize(target) });
        entry.resume();
        continue;
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file' && h.type != null) {
        problems.push({
          pointer: where,
          message: `Entry "${path}" is a ${h.type}; snapshots hold only files, directories and symlinks.`,
        });
        entry.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const hasher = createHash('sha256');
      for await (const chunk of entry) {
        size += (chunk as Buffer).length;
        expanded += (chunk as Buffer).length;
        if (size > limits.maxFileBytes) {
          limitError = tooLarge(
            `file "${path}" is larger than ${limits.maxFileBytes} bytes, and`,
            limits.maxFileBytes,
            'SLUICE_SNAPSHOT_MAX_FILE_BYTES',
          );
          break;
        }
        if (expanded > limits.maxExpandedBytes) {
          limitError = tooLarge(
            `expands to more than ${limits.maxExpandedBytes} bytes, which`,
            limits.maxExpandedBytes,
            'SLUICE_SNAPSHOT_MAX_EXPANDED_BYTES',
          );
          break;
        }
        hasher.update(chunk as Buffer);
        chunks.push(chunk as Buffer);
      }
      if (limitError) break;
      const hash = 'sha256:' + hasher.digest('hex');
      if (!contents.has(hash)) contents.set(hash, Buffer.concat(chunks));
      files.set(path, { path, type: 'file', size, mode: (h.mode ?? 0o644) & 0o111 ? 0o755 : 0o644, hash });
    }
  } catch (e) {
    if (e instanceof ProblemError) throw e;
    throw invalid([
      { pointer: '', message: `The archive could not be read as tar.gz: ${(e as Error).message}.` },
    ]);
  } finally {
    source.destroy();
    gunzip.destroy();
    extract.destroy();
  }
  if (limitError) throw limitError;

  // A path inside a symlinked directory would be written through the link on extraction.
  for (const p of [...files.keys(), ...links.keys()]) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (links.has(prefix))
        problems.push({
          pointer: `/entries/${encodeURIComponent(p)}`,
          message: `Entry "${p}" lies under the symlink "${prefix}"; it was rejected.`,
        });
      if (files.has(prefix))
        problems.push({
          pointer: `/entries/${encodeURIComponent(p)}`,
          message: `Entry "${p}" lies under "${prefix}", which is a file.`,
        });
    }
  }
  if (problems.length)
    throw invalid(
      problems,
      `The snapshot was rejected: ${problems.length === 1 ? problems[0]!.message : `${problems.length} entries are not allowed; see errors[].`}`,
    );

  const entries: ManifestEntry[] = [...files.values(), ...links.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
  const manifest: SnapshotManifest = { format: 1, entries };
  const bytes = [...files.values()].reduce((s, f) => s + f.size, 0);
  return { manifest, hash: manifestHash(manifest), contents, files: entries.length, bytes };
}
