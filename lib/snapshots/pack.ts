import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createGzip } from 'node:zlib';
import ignore, { type Ignore } from 'ignore';
import * as tar from 'tar-stream';

/**
 * Packs a directory into a deterministic tar.gz for POST /api/snapshots (used by `sluice publish`).
 * Honours `.sluiceignore` and `.gitignore` in the directory (gitignore syntax); `.git/` is never packed.
 * Entries are sorted with fixed owners and timestamps, so the same tree gives the same bytes — though
 * the server's snapshot hash does not depend on that (it hashes the manifest).
 */

export interface PackedDirectory {
  archive: Buffer;
  /** Every entry's path (files and symlinks), sorted. */
  files: string[];
  /** Symlink path → its target as written. */
  links: Map<string, string>;
  bytes: number;
}

export const IGNORE_FILES = ['.gitignore', '.sluiceignore'];

async function loadIgnore(dir: string): Promise<Ignore> {
  const ig = ignore().add(['.git/']);
  for (const f of IGNORE_FILES) {
    try {
      ig.add(await readFile(join(dir, f), 'utf8'));
    } catch {
      // absent: nothing to ignore
    }
  }
  return ig;
}

export async function packDirectory(dir: string): Promise<PackedDirectory> {
  const ig = await loadIgnore(dir);
  const entries: Array<{ rel: string; kind: 'file' | 'symlink'; mode: number; target?: string }> = [];
  const walk = async (abs: string): Promise<void> => {
    const names = (await readdir(abs)).sort();
    for (const name of names) {
      const full = join(abs, name);
      const rel = relative(dir, full).split(sep).join('/');
      const st = await lstat(full);
      if (st.isDirectory()) {
        if (ig.ignores(rel + '/')) continue;
        await walk(full);
      } else if (ig.ignores(rel)) continue;
      else if (st.isSymbolicLink())
        entries.push({ rel, kind: 'symlink', mode: 0o777, target: await readlink(full) });
      else if (st.isFile()) entries.push({ rel, kind: 'file', mode: st.mode & 0o111 ? 0o755 : 0o644 });
    }
  };
  await walk(dir);
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));

  const pack = tar.pack();
  const gzip = createGzip({ level: 6 });
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolveDone, reject) => {
    gzip.on('data', (c: Buffer) => chunks.push(c));
    gzip.on('end', () => resolveDone());
    gzip.on('error', reject);
    pack.on('error', reject);
  });
  pack.pipe(gzip);
  let bytes = 0;
  const mtime = new Date(0);
  for (const e of entries) {
    if (e.kind === 'symlink') {
      await new Promise<void>((res, rej) =>
        pack.entry(
          { name: e.rel, type: 'symlink', linkname: e.target!, mode: 0o777, mtime, uid: 0, gid: 0 },
          (err) => (err ? rej(err) : res()),
        ),
      );
      continue;
    }
    const content = await readFile(join(dir, e.rel));
    bytes += content.length;
    await new Promise<void>((res, rej) =>
      pack.entry(
        { name: e.rel, type: 'file', mode: e.mode, mtime, uid: 0, gid: 0, size: content.length },
        content,
        (err) => (err ? rej(err) : res()),
      ),
    );
  }
  pack.finalize();
  await done;
  return {
    archive: Buffer.concat(chunks),
    files: entries.map((e) => e.rel),
    links: new Map(entries.filter((e) => e.kind === 'symlink').map((e) => [e.rel, e.target!])),
    bytes,
  };
}
