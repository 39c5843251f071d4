/**
 * The environment cache on an agent's machine: `<cacheDir>/<key>/` per built environment, with
 * `.sluice-env.json` (what it is, its lock and size) written before the directory is renamed into place,
 * so an entry that exists is complete. Use touches `.last-used`; pruning removes the least recently
 * used entries until the total is under the limit, never one that this process is using.
 */
import { lstat, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

export const META_FILE = '.sluice-env.json';
const LAST_USED = '.last-used';

export interface EntryMeta {
  key: string;
  /** What built it: `uv 0.13.9`, `pip`, `npm`. */
  tool: string;
  /** `name==version` lines, sorted. */
  lock: string[];
  /** The interpreter version for Python environments. */
  python?: string;
  sizeBytes: number;
  builtAt: string;
  buildMs: number;
}

/**
 * Setting `SLUICE_ENV_CACHE_DIR`: where agents keep built environments.
 * @default `<os tmpdir>/sluice-envs`
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SLUICE_ENV_CACHE_DIR?.trim() || join(os.tmpdir(), 'sluice-envs');
}

/**
 * Setting `SLUICE_ENV_CACHE_MAX_BYTES`: the size the cache is pruned to (least recently used first)
 * after each build. @default 20 GiB
 */
export function defaultCacheMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SLUICE_ENV_CACHE_MAX_BYTES?.trim();
  if (!raw) return 20 * 1024 ** 3;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`SLUICE_ENV_CACHE_MAX_BYTES must be a positive number of bytes, not "${raw}".`);
  return n;
}

export async function readEntry(cacheDir: string, key: string): Promise<EntryMeta | undefined> {
  try {
    return JSON.parse(await readFile(join(cacheDir, key, META_FILE), 'utf8')) as EntryMeta;
  } catch {
    return undefined;
  }
}

/** Marker files naming the registered environments an entry has served (`name@version`). */
const NAME_PREFIX = '.name-';

/** Records that the entry served the registered environment `name` (one marker file each: no races). */
export async function nameEntry(cacheDir: string, key: string, name: string): Promise<void> {
  await writeFile(join(cacheDir, key, NAME_PREFIX + encodeURIComponent(name)), '');
}

/** The registered environments an entry has served, sorted. */
export async function entryNames(cacheDir: string, key: string): Promise<string[]> {
  const files = await readdir(join(cacheDir, key)).catch(() => [] as string[]);
  return files
    .filter((f) => f.startsWith(NAME_PREFIX))
    .map((f) => decodeURIComponent(f.slice(NAME_PREFIX.length)))
    .sort();
}

export async function touch(cacheDir: string, key: string): Promise<void> {
  const p = join(cacheDir, key, LAST_USED);
  const now = new Date();
  await utimes(p, now, now).catch(() => writeFile(p, '').catch(() => undefined));
}

/** Total bytes of the files under `dir` (symlinks counted as links). */
export async function dirSize(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries
      .filter((d) => d.isFile() || d.isSymbolicLink())
      .map((d) =>
        lstat(join(d.parentPath, d.name)).then(
          (st) => st.size,
          () => 0,
        ),
      ),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** Moves `tmp` (a complete build with its meta file) into place as `<cacheDir>/<key>`. */
export async function commit(cacheDir: string, key: string, tmp: string, meta: EntryMeta): Promise<void> {
  await writeFile(join(tmp, META_FILE), JSON.stringify(meta, null, 2));
  await writeFile(join(tmp, LAST_USED), '');
  await rename(tmp, join(cacheDir, key));
}

export async function ensureCacheDir(cacheDir: string): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
}

/**
 * Removes least recently used entries until the cache holds at most `maxBytes`; `inUse` keys and
 * build directories are kept. Removal renames first, so no job can start on a half-deleted entry.
 */
export async function prune(
  cacheDir: string,
  maxBytes: number,
  inUse: Set<string>,
  log?: (line: string) => void,
): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const keys = names.filter((k) => !k.startsWith('.') && !k.endsWith('.lock'));
  const entries: Array<{ key: string; size: number; used: number }> = [];
  // Read in parallel chunks: a cache of thousands of entries is scanned in a fraction of a second.
  for (let i = 0; i < keys.length; i += 256)
    await Promise.all(
      keys.slice(i, i + 256).map(async (key) => {
        const meta = await readEntry(cacheDir, key);
        if (!meta) return;
        const used = (await stat(join(cacheDir, key, LAST_USED)).catch(() => undefined))?.mtimeMs ?? 0;
        entries.push({ key, size: meta.sizeBytes, used });
      }),
    );
  let total = entries.reduce((s, e) => s + e.size, 0);
  const removed: string[] = [];
  for (const e of entries.sort((a, b) => a.used - b.used)) {
    if (total <= maxBytes) break;
    if (inUse.has(e.key)) continue;
    const trash = join(cacheDir, `.trash-${e.key}-${process.pid}`);
    try {
      await rename(join(cacheDir, e.key), trash);
    } catch {
      continue;
    }
    await rm(trash, { recursive: true, force: true });
    total -= e.size;
    removed.push(e.key);
    log?.(`environment cache: removed ${e.key.slice(0, 19)}… (${e.size} bytes, least recently used)`);
  }
  return removed;
}
