/**
 * Builds (or finds) the environment a job runs in, on the agent's machine. One call does it all:
 * `prepareEnvironment(spec, {codeDir, log})` returns the variables to run the step with (PATH first).
 *
 * - Keyed by sha256 of the canonical spec, the content of the files it names (requirements.txt,
 *   pyproject.toml, package.json + lock), the interpreter version, the platform and the helper package.
 * - Once per machine: single-flight within the process (one promise per key) and across processes
 *   (a lock file, see build-lock.ts); a waiting job says whom it waits for in its log.
 * - Atomic: built in `<cacheDir>/.build-<key>-…`, renamed into place only when complete.
 * - Python with `uv` when it is on PATH, else `python -m venv` + pip; the Sluice helper package is
 *   copied into every Python environment. Node with `npm ci` from package.json + package-lock.json.
 * - Build output streams into the step's log; a failed build is an EnvironmentError naming the package
 *   and the resolver's reason, which the agent reports as failure code `environment`.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { acquireBuildLock } from './build-lock';
import {
  commit,
  defaultCacheDir,
  defaultCacheMaxBytes,
  dirSize,
  ensureCacheDir,
  prune,
  readEntry,
  touch,
  type EntryMeta,
} from './cache';
import { capabilities, pickPython, platformName, unsatisfiable } from './platform';
import { parse as parseYaml } from 'yaml';
import { canonicalJson, fromConda, isPython, type NormalizedSpec } from './spec';
import { EnvironmentError, explainBuildFailure } from './failure';

export { EnvironmentError } from './failure';

export interface PrepareOptions {
  /** The job's extracted code: requirements files and package.json are read from here. */
  codeDir: string;
  /** One line of build output or progress at a time (the step log). */
  log: (line: string) => void;
  /** @default setting SLUICE_ENV_CACHE_DIR */
  cacheDir?: string;
  /** @default setting SLUICE_ENV_CACHE_MAX_BYTES */
  maxBytes?: number;
  /** Force the Python build tool. @default `uv` when on PATH, else `pip` */
  tool?: 'uv' | 'pip';
  /** Setting `SLUICE_PIP_INDEX_URL`: a PyPI mirror used when the spec names no index. */
  indexUrl?: string;
  /**
   * Where the first build of an environment records its lock, shared by all machines: later builds of
   * the same key (another agent, or after pruning) install exactly that lock, so one spec means one set
   * of versions everywhere, and the spec hash in the step's cache key stands for its lock.
   * @default none (each build resolves afresh)
   */
  lockStore?: LockStore;
}

export interface LockStore {
  get(key: string): Promise<string[] | undefined>;
  /** Records a lock unless one is already recorded (the first build wins). */
  put(key: string, lock: string[]): Promise<void>;
}

export interface PreparedEnvironment {
  /** The build key: `sha256:<hex>`. */
  hash: string;
  /** Variables to run the step with (`PATH` already includes the agent's PATH). */
  env: Record<string, string>;
  /** Exact versions installed, `name==version`, sorted. */
  lock: string[];
  /** True when this call built it; false when it was in the cache. */
  built: boolean;
  /** Time spent getting it (build or lookup), ms. */
  ms: number;
  python?: string;
}

/** Keys in use by running jobs of this process: never pruned. */
const inUse = new Map<string, number>();
/** Builds in flight in this process, by key. */
const building = new Map<string, Promise<{ meta: EntryMeta; built: boolean }>>();

/** Call `release` once the step that used the environment has finished. */
export async function prepareEnvironment(
  spec: NormalizedSpec,
  opts: PrepareOptions,
): Promise<PreparedEnvironment & { release(): void }> {
  const t0 = performance.now();
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  if (spec.condaFile) spec = await foldCondaFile(spec, opts.codeDir);
  if (!isPython(spec) && !spec.npm) {
    // Only a Node version: nothing to build or cache, a check of the node on PATH.
    const caps = await capabilities();
    const why = unsatisfiable(caps, { node: spec.node, wantsPython: false });
    if (why) throw new EnvironmentError(`This agent cannot run the environment: ${why}.`);
    const ms = Math.round(performance.now() - t0);
    return {
      hash: 'sha256:' + createHash('sha256').update(canonicalJson(spec)).digest('hex'),
      env: {},
      lock: [],
      built: false,
      ms,
      release: () => undefined,
    };
  }
  const key = await buildKey(spec, opts);
  inUse.set(key.hash, (inUse.get(key.hash) ?? 0) + 1);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    const n = (inUse.get(key.hash) ?? 1) - 1;
    if (n <= 0) inUse.delete(key.hash);
    else inUse.set(key.hash, n);
  };
  try {
    const dirKey = key.hash.slice('sha256:'.length);
    let meta = await readEntry(cacheDir, dirKey);
    let built = false;
    if (meta) {
      void touch(cacheDir, dirKey);
      opts.log(`environment ${dirKey.slice(0, 12)} from the cache (${meta.lock.length} packages)`);
    } else {
      let flight = building.get(dirKey);
      let mine = false;
      if (flight)
        opts.log(`environment ${dirKey.slice(0, 12)} is being built by another job on this agent; waiting`);
      else {
        flight = buildOnce(spec, key, dirKey, cacheDir, opts).finally(() => building.delete(dirKey));
        building.set(dirKey, flight);
        mine = true;
      }
      const r = await flight;
      meta = r.meta;
      built = mine && r.built;
    }
    const dir = join(cacheDir, dirKey);
    const env: Record<string, string> = { SLUICE_ENVIRONMENT: key.hash };
    const path: string[] = [];
    if (isPython(spec)) {
      path.push(join(dir, 'bin'));
      env.VIRTUAL_ENV = dir;
      env.PYTHONNOUSERSITE = '1';
    }
    if (spec.npm) {
      await linkNodeModules(join(dir, 'node', 'node_modules'), join(opts.codeDir, spec.npm));
      path.push(join(dir, 'node', 'node_modules', '.bin'));
    }
    env.PATH = [...path, process.env.PATH ?? ''].join(':');
    return {
      hash: key.hash,
      env,
      lock: meta.lock,
      built,
      ms: Math.round(performance.now() - t0),
      ...(meta.python ? { python: meta.python } : {}),
      release,
    };
  } catch (e) {
    release();
    throw e;
  }
}

/** A conda environment.yml in the code: its python and pip parts join the spec; conda packages fail. */
async function foldCondaFile(spec: NormalizedSpec, codeDir: string): Promise<NormalizedSpec> {
  const { condaFile, ...rest } = spec;
  const file = resolve(codeDir, condaFile!);
  let conda: unknown;
  try {
    conda = parseYaml(await readFile(file, 'utf8'));
  } catch (e) {
    throw new EnvironmentError(
      `The environment names conda file "${condaFile}", which ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? "is not in the step's code" : `does not parse: ${(e as Error).message}`}.`,
    );
  }
  const deps = (conda as { dependencies?: unknown } | null)?.dependencies;
  if (!Array.isArray(deps))
    throw new EnvironmentError(`The conda file "${condaFile}" has no dependencies: list.`);
  const c = fromConda({ dependencies: deps as Array<string | { pip?: string[] }> });
  if (c.problems.length)
    throw new EnvironmentError(`${condaFile}: ${c.problems.map((p) => p.message).join('; ')}`);
  const python = rest.python ?? c.python;
  const reqs = Array.isArray(rest.requirements) ? rest.requirements : [];
  if (rest.requirements && !Array.isArray(rest.requirements))
    throw new EnvironmentError('A conda file and a requirements file: keep one.');
  return { ...rest, ...(python ? { python } : {}), requirements: [...reqs, ...c.pip] };
}

interface BuildKey {
  hash: string;
  python?: { command: string; path: string; version: string };
  requirementsFile?: string;
}

/** The cache key: everything that decides what gets installed, by content. */
async function buildKey(spec: NormalizedSpec, opts: PrepareOptions): Promise<BuildKey> {
  const files: Record<string, string> = {};
  const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
  const read = async (rel: string, what: string): Promise<Buffer> => {
    const p = resolve(opts.codeDir, rel);
    if (!p.startsWith(resolve(opts.codeDir)))
      throw new EnvironmentError(`${what} "${rel}" is outside the code snapshot.`);
    try {
      return await readFile(p);
    } catch {
      throw new EnvironmentError(
        `The environment names ${what} "${rel}", but the step's code has no such file. Add it to the step's code directory (and republish).`,
      );
    }
  };
  let python: BuildKey['python'];
  let requirementsFile: string | undefined;
  if (isPython(spec)) {
    const caps = await capabilities();
    python = pickPython(caps, spec.python);
    if (!python)
      throw new EnvironmentError(
        `This agent cannot build the environment: ${unsatisfiable(caps, { python: spec.python, wantsPython: true })}. Install that Python on the agent (or add it to SLUICE_PYTHONS), or change the step's python.`,
      );
    if (spec.requirements && !Array.isArray(spec.requirements)) {
      requirementsFile = spec.requirements.file;
      files[requirementsFile] = sha(await read(requirementsFile, 'requirements file'));
    }
    for (const f of spec.findLinks ?? [])
      if (!/^[a-z+]+:\/\//i.test(f)) {
        const dir = resolve(opts.codeDir, f);
        const names = await readdir(dir).catch(() => [] as string[]);
        const parts = await Promise.all(
          names.sort().map(async (n) => `${n}:${sha(await readFile(join(dir, n)).catch(() => ''))}`),
        );
        files[`findLinks:${f}`] = sha(parts.join('\n'));
      }
  }
  if (spec.npm || spec.node) {
    const caps = await capabilities();
    const why = unsatisfiable(caps, { node: spec.node, npm: spec.npm, wantsPython: false });
    if (why) throw new EnvironmentError(`This agent cannot run the environment: ${why}.`);
    if (spec.npm) {
      files[`${spec.npm}/package.json`] = sha(await read(join(spec.npm, 'package.json'), 'package.json'));
      files[`${spec.npm}/package-lock.json`] = sha(
        await read(
          join(spec.npm, 'package-lock.json'),
          'package-lock.json (npm ci needs a lockfile: run `npm install` and commit it)',
        ),
      );
      files.node = caps.node!.split('.')[0]!;
    }
  }
  const helper = isPython(spec) ? await helperHash() : null;
  const index = isPython(spec) && !spec.indexUrl && opts.indexUrl ? opts.indexUrl : null;
  const hash =
    'sha256:' +
    sha(
      canonicalJson({
        spec,
        files,
        platform: platformName(),
        python: python?.version ?? null,
        helper,
        index,
        format: 1,
      }),
    );
  return { hash, ...(python ? { python } : {}), ...(requirementsFile ? { requirementsFile } : {}) };
}

async function buildOnce(
  spec: NormalizedSpec,
  key: BuildKey,
  dirKey: string,
  cacheDir: string,
  opts: PrepareOptions,
): Promise<{ meta: EntryMeta; built: boolean }> {
  await ensureCacheDir(cacheDir);
  const lock = await acquireBuildLock(join(cacheDir, `${dirKey}.lock`), {
    isDone: async () => (await readEntry(cacheDir, dirKey)) !== undefined,
    onWait: (holder) => opts.log(`environment ${dirKey.slice(0, 12)} is being built by ${holder}; waiting`),
  });
  try {
    const done = await readEntry(cacheDir, dirKey);
    if (done) {
      opts.log(`environment ${dirKey.slice(0, 12)} was built meanwhile; using it`);
      return { meta: done, built: false };
    }
    const t0 = performance.now();
    const tmp = join(cacheDir, `.build-${dirKey.slice(0, 16)}-${randomUUID().slice(0, 8)}`);
    const final = join(cacheDir, dirKey);
    opts.log(`building environment ${dirKey.slice(0, 12)} (${describe(spec)})`);
    try {
      const parts: { tool: string; lock: string[] } = { tool: '', lock: [] };
      if (isPython(spec)) Object.assign(parts, await buildPython(spec, key, tmp, final, opts));
      if (spec.npm) {
        const n = await buildNode(spec.npm, tmp, opts);
        parts.tool = parts.tool ? `${parts.tool} + npm` : 'npm';
        parts.lock = [...parts.lock, ...n].sort();
      }
      if (!parts.tool) await mkdir(tmp, { recursive: true });
      const meta: EntryMeta = {
        key: key.hash,
        tool: parts.tool || 'none',
        lock: parts.lock,
        ...(key.python ? { python: key.python.version } : {}),
        sizeBytes: await dirSize(tmp),
        builtAt: new Date().toISOString(),
        buildMs: Math.round(performance.now() - t0),
      };
      await commit(cacheDir, dirKey, tmp, meta);
      opts.log(
        `environment ${dirKey.slice(0, 12)} built in ${meta.buildMs} ms: ${meta.lock.length} packages, ${meta.sizeBytes} bytes`,
      );
      void prune(
        cacheDir,
        opts.maxBytes ?? defaultCacheMaxBytes(),
        new Set([...inUse.keys(), key.hash].map((k) => k.replace(/^sha256:/, ''))),
        opts.log,
      ).catch(() => undefined);
      return { meta, built: true };
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
  } finally {
    await lock?.release();
  }
}

function describe(spec: NormalizedSpec): string {
  const bits: string[] = [];
  if (isPython(spec)) bits.push(`python ${spec.python ?? '(any)'}`);
  if (Array.isArray(spec.requirements)) bits.push(spec.requirements.join(' '));
  else if (spec.requirements) bits.push(`-r ${spec.requirements.file}`);
  if (spec.npm) bits.push(`npm ci in ${spec.npm}`);
  return bits.join(', ');
}

async function buildPython(
  spec: NormalizedSpec,
  key: BuildKey,
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
  if (useUv) await exec('uv', ['venv', '--quiet', '--python', py.path, tmp], log);
  else await exec(py.path, ['-m', 'venv', tmp], log);

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
      if (useUv) await exec('uv', ['pip', 'install', '--python', venvPython, ...args], log);
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
        );
    } catch (e) {
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
async function helperHash(): Promise<string> {
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
async function installHelper(venv: string): Promise<void> {
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

async function buildNode(dir: string, tmp: string, opts: PrepareOptions): Promise<string[]> {
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
    );
  } catch (e) {
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
async function linkNodeModules(modules: string, codePackageDir: string): Promise<void> {
  const link = join(codePackageDir, 'node_modules');
  if (existsSync(link)) return;
  await mkdir(codePackageDir, { recursive: true });
  await symlink(modules, link, 'dir');
}

/** The last lines of a build's output, for the failure message. */
class Tail {
  private buf: string[] = [];
  push(line: string): void {
    this.buf.push(line);
    if (this.buf.length > 200) this.buf.shift();
  }
  lines(): string[] {
    return this.buf;
  }
}

/** Runs a program (no shell), streaming its output line by line; resolves with stdout. */
function exec(cmd: string, args: string[], onLine: (line: string) => void, cwd?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PIP_NO_INPUT: '1', UV_NO_PROGRESS: '1', NO_COLOR: '1' },
    });
    let stdout = '';
    const lines = (stream: NodeJS.ReadableStream, keep: boolean): void => {
      let rest = '';
      stream.on('data', (b: Buffer) => {
        const s = b.toString();
        if (keep) stdout += s;
        const parts = (rest + s).split('\n');
        rest = parts.pop()!;
        for (const l of parts) if (l.trim()) onLine(l.replace(/\r/g, ''));
      });
      stream.on('end', () => {
        if (rest.trim()) onLine(rest);
      });
    };
    lines(child.stdout!, true);
    lines(child.stderr!, false);
    child.on('error', (e) => reject(new Error(`${cmd} could not be started: ${e.message}`)));
    child.on('close', (code, signal) =>
      code === 0
        ? resolvePromise(stdout)
        : reject(new Error(`${cmd} ${args[0] ?? ''} exited with ${code ?? signal}`)),
    );
  });
}
