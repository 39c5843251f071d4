import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packDirectory } from '../snapshots/pack';
import { storeSnapshot } from '../snapshots/store';

/**
 * Where an automl step's Python runs, and with what code. The runtime (lib/automl/runtime/*.py) reaches
 * the agent like any step's code: packed as a content-addressed snapshot, so every agent gets the same
 * files and a change to the runtime changes the step's cache key (its `code` component).
 */

/** lib/automl/runtime, from the compiled module (dist/lib/automl) or the source tree. */
export function runtimeDir(): string {
  for (const dir of [resolve(__dirname, '../../../lib/automl/runtime'), resolve(__dirname, 'runtime')])
    if (existsSync(resolve(dir, 'automl_runtime.py'))) return dir;
  throw new Error('the AutoML runtime (lib/automl/runtime/automl_runtime.py) is not installed with this app');
}

let stored: Promise<string> | undefined;

/** The runtime's snapshot reference, stored once per process (the store skips what it already has). */
export function runtimeSnapshot(): Promise<string> {
  stored ??= packDirectory(runtimeDir())
    .then((p) => storeSnapshot(p.archive))
    .then((r) => r.ref);
  stored.catch(() => (stored = undefined));
  return stored;
}

/**
 * The interpreter automl jobs run with: `python3` of the step's environment, which the agent builds
 * (lib/environments) from `automlEnvironment` (environment.ts) and puts first on the job's PATH.
 */
export function automlInterpreter(): string {
  return 'python3';
}
