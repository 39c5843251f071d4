/**
 * Content addresses and directory manifests. A file is named by the sha256 of its bytes; a directory by
 * the sha256 of its manifest's canonical JSON, so equal trees have equal names wherever they are built.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { DataError } from './errors';

export const HASH_PREFIX = 'sha256:';
const HASH_RE = /^sha256:[0-9a-f]{64}$/;

/** One file of a directory: its path relative to the directory (POSIX separators), content hash, size, mode. */
export interface ManifestEntry {
  path: string;
  hash: string;
  size: number;
  /** `0o755` for files executable by their owner, `0o644` otherwise (normalised so umask does not change the hash). */
  mode: number;
}

export type Manifest = ManifestEntry[];

export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HASH_RE.test(value);
}

/** `sha256:<hex>` → `<hex>`; anything else is a DataError naming the expected form. */
export function hashHex(hash: string): string {
  if (!isHash(hash))
    throw new DataError(
      'invalid-hash',
      `"${String(hash).slice(0, 80)}" is not a content hash; expected sha256:<64 lowercase hex digits>.`,
    );
  return hash.slice(HASH_PREFIX.length);
}

export function sha256(data: Buffer | string): string {
  return HASH_PREFIX + createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted and no whitespace: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function normalizeMode(mode: number): number {
  return mode & 0o100 ? 0o755 : 0o644;
}

/** Sorts entries by path (code-unit order) and returns the canonical bytes and their hash. */
export function encodeManifest(entries: Manifest): { bytes: Buffer; hash: string } {
  const sorted = [...entries]
    .map((e) => ({ path: e.path, hash: e.hash, size: e.size, mode: e.mode }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const bytes = Buffer.from(canonicalJson(sorted), 'utf8');
  return { bytes, hash: sha256(bytes) };
}

/**
 * Checks a relative path inside a directory: no absolute paths, no `..`, no empty segments. Manifests
 * come from storage anyone with the account key can write, so materialising must never escape `dest`.
 */
export function safeRelativePath(p: string): string | undefined {
  if (typeof p !== 'string' || p === '' || p.includes('\0') || p.includes('\\')) return undefined;
  const norm = posix.normalize(p);
  if (
    norm !== p ||
    norm.startsWith('/') ||
    norm === '.' ||
    norm.split('/').some((s) => s === '..' || s === '' || s === '.')
  )
    return undefined;
  return norm;
}

/** Parses and validates manifest bytes (already hash-verified by the caller). */
export function decodeManifest(bytes: Buffer, hash: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new DataError('not-a-directory', `${hash} is not a directory manifest (it is not JSON).`);
  }
  if (!Array.isArray(parsed))
    throw new DataError('not-a-directory', `${hash} is not a directory manifest (expected a JSON array).`);
  const seen = new Set<string>();
  for (const e of parsed as unknown[]) {
    const entry = e as Partial<ManifestEntry>;
    if (
      !entry ||
      typeof entry !== 'object' ||
      !safeRelativePath(entry.path as string) ||
      !isHash(entry.hash) ||
      !Number.isSafeInteger(entry.size) ||
      (entry.size as number) < 0 ||
      !Number.isInteger(entry.mode) ||
      seen.has(entry.path as string)
    )
      throw new DataError(
        'not-a-directory',
        `${hash} is not a valid directory manifest (bad entry ${JSON.stringify(e).slice(0, 200)}).`,
      );
    seen.add(entry.path as string);
  }
  return parsed as Manifest;
}
