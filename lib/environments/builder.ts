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
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
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
import { EnvironmentError } from './failure';
import { helperHash } from './helper-package';
import { buildNode, linkNodeModules } from './node-build';
import type { PrepareOptions } from './options';
import { capabilities, pickPython, platformName, unsatisfiable } from './platform';
import { buildPython } from './python-build';
import { canonicalJson, fromConda, isPython, type NormalizedSpec } from './spec';

export { EnvironmentError } from './failure';

export type { LockStore, PrepareOptions } from './options';

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
    const ms = Math.round(performance.now() - t0);
    // How long this job spent getting its environment (building it, or waiting for another job's
    // build): a step with a time budget (automl) leaves a once-per-machine build out of it.
    return {
      hash: key.hash,
      env: { ...env, SLUICE_ENVIRONMENT_MS: String(ms) },
      lock: meta.lock,
      built,
      ms,
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
  opts.signal?.throwIfAborted();
  await ensureCacheDir(cacheDir);
  const lock = await acquireBuildLock(join(cacheDir, `${dirKey}.lock`), {
    isDone: async () => (await readEntry(cacheDir, dirKey)) !== undefined,
    onWait: (holder) => opts.log(`environment ${dirKey.slice(0, 12)} is being built by ${holder}; waiting`),
  });
  try {
    opts.signal?.throwIfAborted();
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
