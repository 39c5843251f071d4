import { pointer, type FieldProblem } from '../errors/problem';
import { getSnapshotManifest, snapshotExists, storeNarrowedSnapshot } from '../snapshots/store';
import { selectIncluded, unmatchedMessage } from '../snapshots/include';
import type { SnapshotManifest } from '../snapshots/manifest';
import { SNAPSHOT_REF_RE } from './formats';

/**
 * The server's half of `code: { path: snapshot:sha256:…, include: [globs] }`, run by publish and by a
 * draft run before the definition is validated: each such step's code becomes the snapshot of its
 * included files alone (a new manifest over stored blobs, lib/snapshots/store.ts). So everything after
 * publish — the stored version, the cache key, `explain`'s file list, the files a job materialises —
 * sees one plain snapshot reference holding only the step's files, and nothing else has to know about
 * include.
 *
 * A pattern that matches no file of the snapshot is a problem at `/steps/<step>/code/include/<i>`. Invalid
 * patterns, a path that is not a snapshot and a missing snapshot are left to validation (validate.ts,
 * missingSnapshots), so each problem is reported once: such a step keeps its `{ path, include }`, and
 * since the definition then has a problem, nothing is stored or run.
 */
export async function resolveCodeIncludes(
  raw: unknown,
  at: ReadonlyArray<string> = [],
): Promise<{ value: unknown; problems: FieldProblem[] }> {
  const steps = isObj(raw) && isObj(raw.steps) ? raw.steps : undefined;
  if (!steps) return { value: raw, problems: [] };
  const value = { ...(raw as Record<string, unknown>), steps: { ...steps } };
  const problems: FieldProblem[] = [];
  const manifests = new Map<string, Promise<SnapshotManifest | undefined>>();
  const manifestOf = (ref: string) => {
    if (!manifests.has(ref))
      manifests.set(
        ref,
        snapshotExists(ref).then((ok) => (ok ? getSnapshotManifest(ref) : undefined)),
      );
    return manifests.get(ref)!;
  };
  for (const [name, step] of Object.entries(steps)) {
    if (!isObj(step) || !isObj(step.code)) continue;
    const { path, include } = step.code;
    if (typeof path !== 'string' || !Array.isArray(include) || include.length === 0) continue;
    if (!include.every((p): p is string => typeof p === 'string')) continue;
    // Not a stored snapshot: left as it is, for validation and missingSnapshots to report.
    if (!SNAPSHOT_REF_RE.test(path)) continue;
    const manifest = await manifestOf(path);
    if (!manifest) continue;
    const paths = manifest.entries.map((e) => e.path);
    const links = new Map<string, string>(
      manifest.entries.flatMap((e): Array<[string, string]> =>
        e.type === 'symlink' ? [[e.path, e.target]] : [],
      ),
    );
    const sel = selectIncluded(paths, include, links);
    for (const i of sel.unmatched)
      problems.push({
        pointer: pointer([...at, 'steps', name, 'code', 'include', i]),
        message: unmatchedMessage(include[i]!, `snapshot ${path.slice(0, 28)}…`, paths),
      });
    if (sel.invalid.length || sel.unmatched.length) continue;
    const narrowed = await storeNarrowedSnapshot(manifest, new Set(sel.kept));
    (value.steps as Record<string, unknown>)[name] = { ...step, code: narrowed.ref };
  }
  return { value, problems };
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
