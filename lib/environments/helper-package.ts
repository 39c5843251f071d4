/** The Sluice Python helper (lib/python/sluice), copied into every Python environment Sluice builds. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

let helperDir: string | undefined;
/** lib/python/sluice in the repository (the compiled code runs from dist/). */
export function helperPackageDir(): string {
  if (helperDir) return helperDir;
  for (let d = __dirname; d !== dirname(d); d = dirname(d)) {
    const candidate = join(d, 'lib', 'python', 'sluice');
    if (existsSync(join(candidate, 'pyproject.toml'))) return (helperDir = candidate);
  }
  throw new Error('The Sluice Python helper (lib/python/sluice) was not found beside the installed Sluice.');
}

let helperDigest: Promise<string> | undefined;
export async function helperHash(): Promise<string> {
  helperDigest ??= (async () => {
    const src = join(helperPackageDir(), 'src');
    const files = (await readdir(src, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile() && d.name.endsWith('.py'))
      .map((d) => join(d.parentPath, d.name))
      .sort();
    const h = createHash('sha256');
    for (const f of files) h.update(f.slice(src.length)).update(await readFile(f));
    return h.digest('hex');
  })();
  return helperDigest;
}

/** Copies the helper's packages (`sluice`, `azureml`) into the venv's site-packages: no build backend, no index. */
export async function installHelper(venv: string): Promise<void> {
  const lib = join(venv, 'lib');
  const pyDir = (await readdir(lib)).find((n) => n.startsWith('python'));
  if (!pyDir) throw new Error(`${lib} has no python* directory`);
  const site = join(lib, pyDir, 'site-packages');
  const src = join(helperPackageDir(), 'src');
  for (const pkg of await readdir(src))
    if (!pkg.startsWith('.') && !pkg.endsWith('.egg-info'))
      await cp(join(src, pkg), join(site, pkg), {
        recursive: true,
        filter: (s) => !s.includes('__pycache__'),
      });
}
