/** Building node_modules with `npm ci` from package.json + package-lock.json. */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { exec, Tail } from './exec';
import { explainBuildFailure } from './failure';
import type { PrepareOptions } from './options';

export async function buildNode(dir: string, tmp: string, opts: PrepareOptions): Promise<string[]> {
  const target = join(tmp, 'node');
  await mkdir(target, { recursive: true });
  const from = resolve(opts.codeDir, dir);
  await copyFile(join(from, 'package.json'), join(target, 'package.json'));
  await copyFile(join(from, 'package-lock.json'), join(target, 'package-lock.json'));
  const out = new Tail();
  try {
    await exec(
      'npm',
      ['ci', '--no-audit', '--no-fund', '--loglevel', 'warn'],
      (l) => (out.push(l), opts.log(l)),
      target,
      opts.signal,
    );
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw explainBuildFailure(out.lines(), (e as Error).message);
  }
  const lock = JSON.parse(await readFile(join(target, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { version?: string }>;
  };
  return Object.entries(lock.packages ?? {})
    .filter(([p, v]) => p.startsWith('node_modules/') && v.version)
    .map(([p, v]) => `${p.slice(p.lastIndexOf('node_modules/') + 13)}==${v.version}`);
}

/** The step's `node_modules` is the environment's (a symlink), unless the code ships its own. */
export async function linkNodeModules(modules: string, codePackageDir: string): Promise<void> {
  const link = join(codePackageDir, 'node_modules');
  if (existsSync(link)) return;
  await mkdir(codePackageDir, { recursive: true });
  await symlink(modules, link, 'dir');
}
