import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentField, EnvironmentSpec } from '../environments/spec';
import { splitRequirement } from '../environments/spec';
import type { StepDefinition } from '../pipelines/steps-schema';
import { runtimeDir } from './runtime-code';

/**
 * The Python environment automl steps run in: a built-in spec that Sluice builds with uv and caches
 * like any step's `environment:` (lib/environments), so the runtime does not depend on what the agent's
 * own `python3` has installed. Pure apart from reading the pins once from the runtime directory.
 */

/** Minimum Python of the built-in environment (pandas 3 needs 3.11). */
export const AUTOML_PYTHON = '>=3.11';

let pins: string[] | undefined;

/**
 * The built-in environment's requirements: lib/automl/runtime/requirements.txt, every package pinned
 * (its own dependencies too), so the spec is the lock and its hash in the cache key names exact versions.
 */
export function automlRequirements(): string[] {
  pins ??= readFileSync(join(runtimeDir(), 'requirements.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  return pins;
}

/** The built-in spec: FLAML, scikit-learn, LightGBM, XGBoost (CPU), pandas, pyarrow and their deps. */
export function builtinAutomlEnvironment(): EnvironmentSpec {
  return { python: AUTOML_PYTHON, requirements: [...automlRequirements()] };
}

/**
 * The environment an automl step is built with, from its own `environment:`:
 * - none: the built-in spec;
 * - an inline spec with a list of requirements: the built-in, extended. A package the step names
 *   replaces the built-in pin of the same name (`lightgbm==4.6.0`); others are added (`mlflow`). Its
 *   `python` replaces the built-in constraint; index options (indexUrl, findLinks, noIndex…) are kept;
 * - a named environment, a requirements file or a conda file: used as is, in place of the built-in
 *   (it must then list flaml, scikit-learn, lightgbm, xgboost, pandas and pyarrow itself).
 * The pipeline's default `environment:` is for the user's own steps and does not reach automl steps.
 */
export function automlEnvironment(field: EnvironmentField | undefined): EnvironmentField {
  const builtin = builtinAutomlEnvironment();
  if (field === undefined) return builtin;
  if (typeof field === 'string' || field.conda !== undefined || typeof field.requirements === 'string')
    return field;
  const own = field.requirements ?? [];
  const ownNames = new Set(own.map((r) => splitRequirement(r)[0]));
  const requirements = [
    ...(builtin.requirements as string[]).filter((r) => !ownNames.has(splitRequirement(r)[0])),
    ...own,
  ];
  return { ...field, python: field.python ?? builtin.python, requirements };
}

/**
 * The `environment:` field a step is dispatched with: an automl step's from `automlEnvironment`, a
 * dataTransfer has none, every other step its own or else the pipeline's default.
 */
export function stepEnvironmentField(
  def: StepDefinition,
  pipelineDefault: EnvironmentField | undefined,
): EnvironmentField | undefined {
  if (def.kind === 'dataTransfer') return undefined;
  if (def.kind === 'automl') return automlEnvironment(def.environment);
  return def.environment ?? pipelineDefault;
}
