/**
 * The agent's one call: build or find the job's environment and say how to run the step in it.
 * Kept here so the job runner (lib/compute) stays a few lines away from environments.
 */
import { defaultCacheDir, nameEntry } from './cache';
import { EnvironmentError, prepareEnvironment, type LockStore } from './builder';
import { blobLockStore } from './lock-store';
import type { NormalizedSpec } from './spec';

/** What the step record keeps about its environment. */
export interface EnvironmentRecord {
  /** The build key (spec, files, platform, interpreter). */
  hash: string;
  /** Exact versions installed, `name==version`. */
  lock: string[];
  /** Built by this job (false: taken from the agent's cache). */
  built: boolean;
  /** ms to build or find it. */
  ms: number;
  python?: string;
}

export type StepEnvironment =
  | { ok: true; env: Record<string, string>; record: EnvironmentRecord; release(): void }
  /** `environment`: the spec cannot be built (not retried); `platform`: the machine failed (retried). */
  | { ok: false; code: 'environment' | 'platform'; message: string };

/**
 * Setting `SLUICE_PIP_INDEX_URL`: the PyPI mirror agents install from when a spec names no index (for
 * machines without access to pypi.org). @default unset (pip/uv defaults: PyPI)
 */
export const mirrorSetting = (env: NodeJS.ProcessEnv = process.env): string | undefined =>
  env.SLUICE_PIP_INDEX_URL?.trim() || undefined;

let locks: LockStore | undefined;

export async function prepareStepEnvironment(
  spec: NormalizedSpec,
  opts: {
    codeDir: string;
    log: (line: string) => void;
    cacheDir?: string;
    /** A build taking longer fails the job as `platform` (retried): a stalled index, not a bad spec. */
    timeoutMs?: number;
    /** The registered environment (`name@version`) the step named: the cache entry lists it. */
    name?: string;
  },
): Promise<StepEnvironment> {
  const signal = opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined;
  try {
    const mirror = mirrorSetting();
    const preparing = prepareEnvironment(spec, {
      codeDir: opts.codeDir,
      log: opts.log,
      cacheDir: opts.cacheDir ?? defaultCacheDir(),
      lockStore: (locks ??= blobLockStore()),
      ...(signal ? { signal } : {}),
      ...(mirror ? { indexUrl: mirror } : {}),
    });
    // A job waiting for another process's build stops waiting at its timeout too.
    const p = signal
      ? await Promise.race([
          preparing,
          new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
          ),
        ])
      : await preparing;
    if (opts.name)
      await nameEntry(opts.cacheDir ?? defaultCacheDir(), p.hash.replace(/^sha256:/, ''), opts.name).catch(
        () => undefined,
      );
    const record: EnvironmentRecord = { hash: p.hash, lock: p.lock, built: p.built, ms: p.ms };
    if (p.python) record.python = p.python;
    return { ok: true, env: p.env, record, release: p.release };
  } catch (e) {
    if (signal?.aborted)
      return {
        ok: false,
        code: 'platform',
        message: `Building the step's environment took longer than the step's timeout (${opts.timeoutMs} ms); its installers were killed. A stalled package index is the usual cause: check access to it (or SLUICE_PIP_INDEX_URL).`,
      };
    if (e instanceof EnvironmentError) return { ok: false, code: 'environment', message: e.message };
    return {
      ok: false,
      code: 'platform',
      message: `Preparing the step's environment failed: ${(e as Error).message}`,
    };
  }
}
