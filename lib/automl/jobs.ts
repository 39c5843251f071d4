import type { JobInput, JobOutputSpec, JobSpec } from '../compute/job';
import { AUTOML_OUTPUTS, type AutomlStep } from '../pipelines/automl-schema';
import { automlConfig, familyTimeoutMs, type FamilyPlan } from './plan';
import { automlInterpreter } from './runtime-code';

/**
 * The jobs of an automl step, as the batch machinery runs them (lib/runs/parallel.ts `enqueueBatches`):
 * one per family (`role: family`), then one gather (`role: gather`). Pure: the engine passes what it
 * resolved (inputs, the runtime snapshot) and gets each job's argv, env, inputs and outputs.
 */

/** A family job's batch parameters (BatchState.params); the gather's are `{ role: 'gather' }`. */
export type AutomlBatchParams = { role: 'family'; family: string; plan: string } | { role: 'gather' };

export const FAMILY_OUTPUT = 'result';

export function familyBatchParams(plan: FamilyPlan): AutomlBatchParams {
  return { role: 'family', family: plan.family, plan: JSON.stringify(plan) };
}

/** The per-job part of one automl batch: argv, env, inputs, outputs, timeout. */
export function automlJob(
  def: AutomlStep,
  params: Record<string, string | number | boolean> | undefined,
  base: {
    env?: Record<string, string>;
    inputs: JobInput[];
    timeoutMs: number;
    /** When the job is created (ISO): its share of the budget runs from here (queueing included). */
    createdAt?: string;
  },
  /** gather only: the family results (name → hash) and how each failed family ended. */
  gathered?: {
    results: Array<{ family: string; hash: string }>;
    failed: Record<string, { status: string; message?: string }>;
  },
): Partial<Pick<JobSpec, 'inputs' | 'command' | 'args' | 'env' | 'outputs' | 'timeoutMs'>> {
  const config = automlConfig(def);
  const py = automlInterpreter();
  // Epoch seconds the job was created at: the runtime counts its share from here, so the time the job
  // waits for an agent, its inputs and environment, and Python's start all come out of the search.
  const created = base.createdAt ? Date.parse(base.createdAt) : NaN;
  const createdEnv: Record<string, string> = Number.isFinite(created)
    ? { SLUICE_AUTOML_JOB_CREATED_AT: (created / 1000).toFixed(3) }
    : {};
  if (params?.role === 'family') {
    const plan = JSON.parse(String(params.plan)) as FamilyPlan;
    const valid = base.inputs.some((i) => i.name === 'validationData');
    const own = familyTimeoutMs(plan);
    return {
      command: '',
      args: [
        py,
        'automl_runtime.py',
        'family',
        '--train',
        '${{inputs.trainingData}}',
        ...(valid ? ['--valid', '${{inputs.validationData}}'] : []),
        '--out',
        `\${{outputs.${FAMILY_OUTPUT}}}`,
      ],
      env: {
        ...(base.env ?? {}),
        ...createdEnv,
        SLUICE_AUTOML_CONFIG: JSON.stringify({ ...config, ...plan }),
      },
      outputs: [{ name: FAMILY_OUTPUT, type: 'directory' }],
      timeoutMs: own === undefined ? base.timeoutMs : Math.min(own, base.timeoutMs),
    };
  }
  const results = gathered?.results ?? [];
  const outputs: JobOutputSpec[] = Object.entries(AUTOML_OUTPUTS).map(([name, o]) => ({
    name,
    type: o.type,
  }));
  return {
    command: '',
    args: [
      py,
      'automl_runtime.py',
      'gather',
      '--families',
      ...results.map((_, i) => `\${{inputs.family${i}}}`),
      '--best-model',
      '${{outputs.best_model}}',
      '--leaderboard',
      '${{outputs.leaderboard}}',
      '--featurization',
      '${{outputs.featurization}}',
    ],
    env: {
      ...(base.env ?? {}),
      ...createdEnv,
      SLUICE_AUTOML_CONFIG: JSON.stringify({ ...config, familyStatus: gathered?.failed ?? {} }),
    },
    inputs: results.map((r, i) => ({ name: `family${i}`, hash: r.hash, type: 'directory' as const })),
    outputs,
    timeoutMs: base.timeoutMs,
  };
}
