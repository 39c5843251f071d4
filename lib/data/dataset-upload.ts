/**
 * Dataset registration from a request body: one file as sent, or a tar.gz of a directory streamed entry
 * by entry into the store (no temporary files). Every bad entry of an archive is reported at once, and
 * nothing is registered unless the whole archive is read; a version is then created in `datasets.ts`.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';
import { invalid, ProblemError } from '../errors/problem';
import { putManifest, putStream } from './cas';
import { checkName, createVersion, type RegisterResult } from './datasets';
import { normalizeMode, safeRelativePath, type Manifest, type ManifestEntry } from './hash';

const GZIP_TYPES = [
  'application/gzip',
  'application/x-gzip',
  'application/tar+gzip',
  'application/x-tar+gzip',
  'application/x-compressed-tar',
];

export function isGzipType(contentType: string): boolean {
  return GZIP_TYPES.includes(contentType.split(';')[0]!.trim().toLowerCase());
}

/** Registers uploaded content: a tar.gz of a directory when `contentType` is gzip, else one file. */
export async function registerUpload(
  name: string,
  body: Readable,
  contentType: string,
): Promise<RegisterResult> {
  checkName(name);
  const media = contentType.split(';')[0]!.trim().toLowerCase() || 'application/octet-stream';
  if (isGzipType(media)) {
    const dir = await storeTarGz(body);
    return createVersion(
      name,
      { hash: dir.hash, type: 'directory', size: dir.size, files: dir.manifest.length },
      { kind: 'upload', contentType: media },
    );
  }
  const file = await putStream(body);
  if (file.size === 0)
    throw invalid([
      {
        pointer: '',
        message:
          'The request body is empty; send the file bytes, or a tar.gz of a directory with Content-Type application/gzip.',
      },
    ]);
  return createVersion(
    name,
    { hash: file.hash, type: 'file', size: file.size, files: 1 },
    { kind: 'upload', contentType: media },
  );
}

/** Streams a tar.gz into the store entry by entry (no temporary files) and stores its manifest. */
export async function storeTarGz(
  body: Readable,
): Promise<{ hash: string; size: number; manifest: Manifest }> {
  const entries = new Map<string, ManifestEntry>();
  const problems: string[] = [];
  const ex = tarExtract();
  ex.on('entry', (header, stream, next) => {
    const raw = header.name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (header.type === 'directory' || raw === '' || raw === '.') {
      stream.resume();
      return next();
    }
    const path = safeRelativePath(raw);
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      if (
        !['pax-header', 'pax-global-header', 'gnu-long-path', 'gnu-long-link-path'].includes(
          header.type ?? '',
        )
      )
        problems.push(`"${raw}" is a ${header.type}; only regular files and folders are stored`);
      stream.resume();
      return next();
    }
    if (!path) {
      problems.push(`"${raw}" is not a safe relative path`);
      stream.resume();
      return next();
    }
    putStream(stream as unknown as AsyncIterable<Uint8Array>).then(
      (r) => {
        entries.set(path, { path, hash: r.hash, size: r.size, mode: normalizeMode(header.mode ?? 0o644) });
        next();
      },
      (e: unknown) => next(e as Error),
    );
  });
  try {
    await pipeline(body, createGunzip(), ex);
  } catch (e) {
    if (e instanceof ProblemError) throw e;
    throw invalid([
      {
        pointer: '',
        message: `The body is not a readable tar.gz archive (${(e as Error).message}); create one with \`tar -czf data.tgz -C DIR .\`.`,
      },
    ]);
  }
  if (problems.length) throw invalid(problems.map((message) => ({ pointer: '', message })));
  if (entries.size === 0)
    throw invalid([
      { pointer: '', message: 'The archive holds no files; a dataset directory needs at least one file.' },
    ]);
  const m = await putManifest([...entries.values()]);
  return { hash: m.hash, size: m.size, manifest: m.manifest };
}
