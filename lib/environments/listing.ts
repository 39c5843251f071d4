/**
 * What an agent's environment cache holds, for the live view of its compute target: one line per
 * complete entry (an entry that exists is complete, see cache.ts), most recently used first. Reads only
 * the entries' meta files and their `.last-used` times; never a build directory.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CachedEnvironment } from './cached-environment';
import { entryNames, readEntry } from './cache';

export type { CachedEnvironment };

/** The short form agents report in `cachedEnvironments`: the first 12 hex of the key, as in step logs. */
export const shortKey = (key: string): string => key.replace(/^sha256:/, '').slice(0, 12);

/**
 * The cache's complete entries, most recently used first, at most `limit`.
 * @default limit 50
 */
export async function listCachedEnvironments(cacheDir: string, limit = 50): Promise<CachedEnvironment[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const keys = names.filter((k) => /^[0-9a-f]{64}$/.test(k));
  const out: Array<CachedEnvironment & { used: number }> = [];
  for (let i = 0; i < keys.length; i += 64)
    await Promise.all(
      keys.slice(i, i + 64).map(async (key) => {
        const meta = await readEntry(cacheDir, key);
        if (!meta) return;
        const used = (await stat(join(cacheDir, key, '.last-used')).catch(() => undefined))?.mtimeMs;
        out.push({
          key,
          tool: meta.tool,
          ...(meta.python ? { python: meta.python } : {}),
          packages: meta.lock.length,
          lockHead: meta.lock.slice(0, 5),
          sizeBytes: meta.sizeBytes,
          builtAt: meta.builtAt,
          names: await entryNames(cacheDir, key),
          ...(used ? { lastUsedAt: new Date(used).toISOString() } : {}),
          used: used ?? Date.parse(meta.builtAt),
        });
      }),
    );
  return out
    .sort((a, b) => b.used - a.used)
    .slice(0, limit)
    .map(({ used: _used, ...e }) => e);
}
