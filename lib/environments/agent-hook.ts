/**
 * The agent's one call: build or find the job's environment and say how to run the step in it.
 * Kept here so the job runner (lib/compute) stays a few lines away from environments.
 */
import { defaultCacheDir } from './cache';
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
  opts: { codeDir: string; log: (line: string) => void; cacheDir?: string },
): Promise<StepEnvironment> {
  try {
    const mirror = mirrorSetting();
    const p = await prepareEnvironment(spec, {
      codeDir: opts.codeDir,
      log: opts.log,
      cacheDir: opts.cacheDir ?? defaultCacheDir(),
      lockStore: (locks ??= blobLockStore()),
      ...(mirror ? { indexUrl: mirror } : {}),
    });
    const record: EnvironmentRecord = { hash: p.hash, lock: p.lock, built: p.built, ms: p.ms };
    if (p.python) record.python = p.python;
    return { ok: true, env: p.env, record, release: p.release };
  } catch (e) {
    if (e instanceof EnvironmentError) return { ok: false, code: 'environment', message: e.message };
    return {
      ok: false,
      code: 'platform',
      message: `Preparing the step's environment failed: ${(e as Error).message}`,
    };
  }
}
