/** Building a Python virtual environment: uv or venv + pip, the helper copied in, the lock frozen. */
import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { exec, Tail } from './exec';
import { EnvironmentError, explainBuildFailure } from './failure';
import { installHelper } from './helper-package';
import type { PrepareOptions } from './options';
import { capabilities, type PythonInterpreter } from './platform';
import type { NormalizedSpec } from './spec';

export async function buildPython(
  spec: NormalizedSpec,
  key: { hash: string; python?: PythonInterpreter },
  tmp: string,
  final: string,
  opts: PrepareOptions,
): Promise<{ tool: string; lock: string[] }> {
  const caps = await capabilities();
  const useUv = (opts.tool ?? (caps.uv ? 'uv' : 'pip')) === 'uv' && caps.uv !== null;
  const py = key.python!;
  const venvPython = join(tmp, 'bin', 'python');
  const out = new Tail();
  const log = (line: string): void => {
    out.push(line);
    opts.log(line);
  };
  if (useUv) await exec('uv', ['venv', '--quiet', '--python', py.path, tmp], log, undefined, opts.signal);
  else await exec(py.path, ['-m', 'venv', tmp], log, undefined, opts.signal);

  const args: string[] = [];
  const dirKey = key.hash.replace(/^sha256:/, '');
  const recorded = spec.requirements ? await opts.lockStore?.get(dirKey).catch(() => undefined) : undefined;
  if (recorded?.length) {
    opts.log(`installing the lock recorded by this environment's first build (${recorded.length} packages)`);
    args.push('--no-deps', ...recorded);
  } else if (Array.isArray(spec.requirements)) args.push(...spec.requirements);
  else if (spec.requirements) {
    const file = resolve(opts.codeDir, spec.requirements.file);
    if (file.endsWith('.toml')) {
      const deps = await pyprojectDependencies(py.path, file);
      opts.log(`pyproject.toml dependencies: ${deps.join(' ') || '(none)'}`);
      args.push(...deps);
    } else args.push('-r', file);
  }
  const index = spec.indexUrl ?? opts.indexUrl;
  if (args.length) {
    if (spec.noIndex) args.push('--no-index');
    else if (index) args.push('--index-url', index);
    for (const u of spec.extraIndexUrls ?? []) args.push('--extra-index-url', u);
    for (const f of spec.findLinks ?? [])
      args.push('--find-links', /^[a-z+]+:\/\//i.test(f) ? f : resolve(opts.codeDir, f));
    try {
      // Bytecode is compiled once here (pip does it by default, uv only when asked): a job's Python then
      // reads .pyc files instead of compiling every module it imports, each run, where
      // PYTHONDONTWRITEBYTECODE is set (FLAML + scikit-learn imports: ~3 s instead of ~7–12 s on 2 busy cores).
      if (useUv)
        await exec(
          'uv',
          ['pip', 'install', '--compile-bytecode', '--python', venvPython, ...args],
          log,
          undefined,
          opts.signal,
        );
      else
        await exec(
          venvPython,
          [
            '-m',
            'pip',
            'install',
            '--disable-pip-version-check',
            '--no-input',
            '--progress-bar',
            'off',
            ...args,
          ],
          log,
          undefined,
          opts.signal,
        );
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw explainBuildFailure(out.lines(), (e as Error).message);
    }
  }
  await installHelper(tmp);
  const freeze = useUv
    ? await exec('uv', ['pip', 'freeze', '--python', venvPython], () => undefined)
    : await exec(venvPython, ['-m', 'pip', 'freeze', '--disable-pip-version-check'], () => undefined);
  const lock = freeze
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(pip|setuptools|wheel)==/i.test(l))
    .sort();
  if (!recorded?.length && lock.length) await opts.lockStore?.put(dirKey, lock).catch(() => undefined);
  await relocate(tmp, final);
  return { tool: useUv ? caps.uv! : 'pip', lock };
}

/** The `[project].dependencies` of a pyproject.toml, read with the interpreter's own tomllib (3.11+). */
async function pyprojectDependencies(python: string, file: string): Promise<string[]> {
  const code =
    'import json,sys\ntry:\n import tomllib\nexcept ImportError:\n sys.exit("reading pyproject.toml needs Python 3.11 or later")\n' +
    'd=tomllib.load(open(sys.argv[1],"rb"))\nprint(json.dumps(d.get("project",{}).get("dependencies",[])))';
  try {
    return JSON.parse(await exec(python, ['-c', code, file], () => undefined)) as string[];
  } catch (e) {
    throw new EnvironmentError(`Reading the dependencies of ${file} failed: ${(e as Error).message}`);
  }
}

/** Venv scripts name their interpreter by absolute path: point them at where the directory will live. */
async function relocate(tmp: string, final: string): Promise<void> {
  const bin = join(tmp, 'bin');
  for (const name of await readdir(bin)) {
    const p = join(bin, name);
    const st = await lstat(p);
    if (!st.isFile() || st.size > 256 * 1024) continue;
    const text = await readFile(p, 'utf8').catch(() => undefined);
    if (text?.includes(tmp)) await writeFile(p, text.split(tmp).join(final));
  }
  const cfg = join(tmp, 'pyvenv.cfg');
  const text = await readFile(cfg, 'utf8').catch(() => undefined);
  if (text?.includes(tmp)) await writeFile(cfg, text.split(tmp).join(final));
}
