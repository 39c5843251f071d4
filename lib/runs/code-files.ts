import { join } from 'node:path';
import type { CodeFileEntry } from './cache-key';

/**
 * File lists of two code snapshots, so "why did this run?" can say `code: src/train.js changed`
 * instead of two hashes. PIPELINES owns snapshots (lib/snapshots); the lister is looked up at run time
 * so an explanation degrades to hashes, never to an error, while that module changes.
 */
type Lister = (ref: string) => Promise<CodeFileEntry[]>;

let found: Lister | null | undefined;

async function locate(): Promise<Lister | null> {
  if (found !== undefined) return found;
  const base = join(__dirname, '..', 'snapshots');
  for (const mod of ['index', 'store', 'snapshots', 'manifest']) {
    try {
      const m = (await import(join(base, `${mod}.js`))) as Record<string, unknown>;
      for (const fn of ['snapshotFiles', 'listSnapshotFiles', 'readSnapshotManifest'])
        if (typeof m[fn] === 'function') return (found = m[fn] as Lister);
    } catch {
      /* not this module */
    }
  }
  return (found = null);
}

/** Both snapshots' files, or undefined when they cannot be listed cheaply. */
export async function codeFileList(
  before: string,
  after: string,
): Promise<{ before: CodeFileEntry[]; after: CodeFileEntry[] } | undefined> {
  const list = await locate();
  if (!list) return undefined;
  const [a, b] = await Promise.all([list(before), list(after)]);
  const norm = (xs: unknown): CodeFileEntry[] =>
    Array.isArray(xs)
      ? xs.map((x: { path: string; hash?: string; sha256?: string }) => ({
          path: x.path,
          hash: String(x.hash ?? x.sha256),
        }))
      : [];
  return { before: norm(a), after: norm(b) };
}
