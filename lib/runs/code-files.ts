import { getSnapshotManifest } from '../snapshots';
import type { CodeFileEntry } from './cache-key';

/**
 * File lists of two code snapshots, so "why did this run?" can say `code: src/train.js changed`
 * instead of two hashes. Snapshot manifests are small documents (one entry per file, no content), so
 * this costs two reads and only happens when the code hash differs.
 */
export async function codeFileList(
  before: string,
  after: string,
): Promise<{ before: CodeFileEntry[]; after: CodeFileEntry[] } | undefined> {
  const [a, b] = await Promise.all([getSnapshotManifest(before), getSnapshotManifest(after)]);
  const files = (m: typeof a): CodeFileEntry[] =>
    m.entries.map((e) => ({ path: e.path, hash: e.type === 'file' ? e.hash : `link:${e.target}` }));
  return { before: files(a), after: files(b) };
}
