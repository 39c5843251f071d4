import { z } from 'zod';
import { EnvironmentFieldSchema } from '../environments/spec';
import { ResourcesSchema } from '../compute/targets';

/**
 * The pipeline definition format: ONE set of zod schemas drives validation (lib/pipelines/validate.ts),
 * the TypeScript types (inferred below), the JSON Schema served at GET /api/schemas/pipeline.json and
 * the definition component of the OpenAPI document. Structural rules live here; rules that need the
 * whole document (references, cycles, placeholders) live in validate.ts.
 */

/** Pipeline names: they appear in URLs and Cosmos partition keys, so they are kept URL- and id-safe. */
export const PIPELINE_NAME_RE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
export const PIPELINE_NAME_RULE =
  'lowercase letters, digits and "-", 3–63 characters, starting and ending with a letter or digit';

/** Names of steps, parameters, inputs and outputs: they appear inside `${{…}}` placeholders. */
export const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const IDENT_RULE = 'a letter or "_" followed by letters, digits, "_" or "-" (at most 64 characters)';

/** Environment variable names; `SLUICE_` is reserved for what the agent sets. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Dataset references: `name@3` or `name@latest`. */
export const DATASET_REF_RE = /^([a-z0-9][a-z0-9._-]{0,62})@(latest|[1-9][0-9]*)$/;

/** The only `code` the server accepts: a content-addressed snapshot uploaded via POST /api/snapshots. */
export const SNAPSHOT_REF_RE = /^snapshot:sha256:[0-9a-f]{64}$/;

/** `30m`, `90s`, `2h`, `1h30m`, `500ms`. */
export const DURATION_RE = /^(?=\d)(\d+h)?(\d+m(?!s))?(\d+s)?(\d+ms)?$/;

/** A whole-value parameter placeholder, `${{parameters.NAME}}`: accepted by numeric step fields. */
export const PARAM_PLACEHOLDER_RE = /^\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_-]{0,63})\s*\}\}$/;

/**
 * A numeric (or duration) step field that may instead hold `${{parameters.NAME}}`. The placeholder is
 * typed and range-checked against `base` when a run starts (lib/pipelines/numeric-fields.ts), and runs
 * see the resolved number: the static type stays `base`'s, so code past run start never sees a string.
 */
export function orParameter<T extends z.ZodType>(base: T): T {
  const placeholder = z.string().regex(PARAM_PLACEHOLDER_RE, {
    error: 'a parameter placeholder is ${{parameters.NAME}}, the whole value',
  });
  return z.union([base, placeholder]).meta({
    description:
      `${String(base.meta()?.description ?? '')} May be \${{parameters.NAME}}, checked when a run starts.`.trim(),
  }) as unknown as T;
}

const description = z.string().max(2000).optional().meta({ description: 'Free text shown in listings.' });

// ---------------------------------------------------------------- parameters

const paramBase = { description };

export const IntegerParameterSchema = z.strictObject({
  type: z.literal('integer'),
  default: z.int(),
  min: z.int().optional(),
  max: z.int().optional(),
  ...paramBase,
});
export const NumberParameterSchema = z.strictObject({
  type: z.literal('number'),
  default: z.number(),
  min: z.number().optional(),
  max: z.number().optional(),
  ...paramBase,
});
export const StringParameterSchema = z.strictObject({
  type: z.literal('string'),
  default: z.string(),
  pattern: z.string().optional().meta({ description: 'A regular expression run values must match.' }),
  ...paramBase,
});
export const BooleanParameterSchema = z.strictObject({
  type: z.literal('boolean'),
  default: z.boolean(),
  ...paramBase,
});
export const EnumParameterSchema = z.strictObject({
  type: z.literal('enum'),
  values: z.array(z.string()).min(1),
  default: z.string(),
  ...paramBase,
});

export const ParameterSchema = z
  .discriminatedUnion('type', [
    IntegerParameterSchema,
    NumberParameterSchema,
    StringParameterSchema,
    BooleanParameterSchema,
    EnumParameterSchema,
  ])
  .meta({ description: 'A typed run parameter; runs may override the default.' });

export const PARAMETER_TYPES = ['integer', 'number', 'string', 'boolean', 'enum'] as const;

// ---------------------------------------------------------------- pipeline inputs

export const PipelineInputSchema = z
  .strictObject({
    type: z.literal('dataset').default('dataset'),
    default: z
      .string()
      .regex(DATASET_REF_RE, {
        error: 'a dataset reference is name@version or name@latest, e.g. churn-raw@latest',
      })
      .optional(),
    description,
  })
  .meta({ description: 'Data bound when a run starts: a dataset reference (name@version|latest).' });

// ---------------------------------------------------------------- settings

export const SettingsSchema = z.strictObject({
  /** @default 8 */
  maxConcurrency: z
    .int()
    .min(1)
    .max(256)
    .default(8)
    .meta({ description: 'Steps running at once. Default 8.' }),
  /** @default false */
  continueOnStepFailure: z.boolean().default(false).meta({
    description: 'When a step fails, keep running branches that do not depend on it. Default false.',
  }),
  /** @default "local" */
  defaultCompute: z
    .string()
    .regex(IDENT_RE, { error: `a compute target name is ${IDENT_RULE}` })
    .default('local')
    .meta({ description: 'Compute target for steps without `compute`. Default "local".' }),
});

// ---------------------------------------------------------------- steps

export const OutputSchema = z.strictObject({
  type: z.enum(['file', 'directory']).meta({ description: 'What the step writes at ${{outputs.NAME}}.' }),
  dataset: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
      error: 'a dataset name is lowercase letters, digits, ".", "_" or "-" (at most 63 characters)',
    })
    .optional()
    .meta({
      description:
        'Register the output as a new version of this dataset when the step succeeds. ' +
        'At most one step of a pipeline may write a given dataset.',
    }),
  description,
});

/** A step input binding: `${{pipeline.inputs.X}}`, `${{steps.S.outputs.O}}` or a dataset reference. */
const binding = z.string().meta({
  description:
    'Where the data comes from: ${{pipeline.inputs.X}}, ${{steps.S.outputs.O}} or name@version|latest.',
});

const commonStep = {
  description,
  compute: z
    .string()
    .regex(IDENT_RE, { error: `a compute target name is ${IDENT_RULE}` })
    .optional()
    .meta({ description: 'A compute target name.' }),
  env: z.record(z.string(), z.string()).optional().meta({
    description: 'Environment variables; values may use ${{parameters.X}}, ${{inputs.X}}, ${{outputs.X}}.',
  }),
  environment: EnvironmentFieldSchema.optional(),
  resources: ResourcesSchema.optional().meta({
    description:
      "What one attempt needs: {cpu, memoryGb, gpu}. The target's defaults fill the rest; more than the target offers fails at run start.",
  }),
  /** @default true */
  reuse: z.boolean().default(true).meta({
    description: 'Reuse earlier outputs when nothing that goes into the step changed. Default true.',
  }),
  /** @default 0 */
  retries: orParameter(
    z.int().min(0).max(10).meta({ description: 'Extra attempts after a failure. Default 0.' }),
  ).default(0),
  timeout: orParameter(
    z
      .string()
      .regex(DURATION_RE, { error: 'a timeout is a duration such as 90s, 30m, 2h or 1h30m' })
      .meta({ description: 'Wall-clock limit per attempt, e.g. 30m.' }),
  ).optional(),
  after: z.array(z.string()).optional().meta({
    description: 'Steps that must finish first although no data flows from them (order-only edges).',
  }),
};

/**
 * `code: { path, include }`: only the listed files of the directory belong to the step, so its cache key
 * (and the snapshot its job gets) covers those files alone (lib/snapshots/include.ts).
 */
export const CodeIncludeSchema = z.strictObject({
  path: z.string().min(1).meta({
    description:
      'The code directory, as a plain `code:` gives it (in files: relative; on the server: a snapshot).',
  }),
  include: z
    .array(z.string())
    .min(1)
    .meta({
      description:
        'Globs relative to the directory (train.py, common/**, *.py); a directory name keeps all under it. ' +
        "Only these files are the step's code: its cache key and its working directory hold nothing else.",
    }),
});
export type CodeInclude = z.output<typeof CodeIncludeSchema>;

/**
 * The output is always a string: the server turns `{ path, include }` into the snapshot of the included
 * files before validating (lib/pipelines/code-include.ts), so code past publish only sees a snapshot
 * reference. In a file, where the object is still there, the output is its directory.
 */
const codeField = z
  .union([z.string().min(1), CodeIncludeSchema])
  .transform((c) => (typeof c === 'string' ? c : c.path))
  .optional()
  .meta({
    description:
      'The step working directory. In files: a directory relative to the definition (packed by `sluice publish`). ' +
      'On the server: snapshot:sha256:<64 hex>. Either form may be narrowed to some of its files with ' +
      '{ path, include: [globs] }.',
  });

/**
 * `args:` instead of `command:`: the program and its arguments, run without a shell, one element per
 * argument after placeholder substitution (Azure ML's `arguments=[...]`). A step gives one of the two.
 */
const argsField = z.array(z.string()).min(1).optional().meta({
  description:
    'Program and arguments, run without a shell: one element per argument after ${{…}} substitution. Instead of `command`.',
});

export const CommandStepSchema = z.strictObject({
  kind: z.literal('command').default('command'),
  command: z.string().min(1).optional().meta({
    description:
      'Shell command; ${{parameters.X}}, ${{inputs.X}} and ${{outputs.X}} are substituted, each value as literal text. Or give `args`.',
  }),
  args: argsField,
  code: codeField,
  inputs: z.record(z.string(), binding).optional(),
  outputs: z.record(z.string(), OutputSchema).optional(),
  ...commonStep,
});

export const DataTransferStepSchema = z.strictObject({
  kind: z.literal('dataTransfer'),
  source: binding,
  destination: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, {
      error: 'a dataset name is lowercase letters, digits, ".", "_" or "-"',
    })
    .meta({ description: 'Dataset to register the copied data as (a new version).' }),
  ...commonStep,
});

const SearchDimensionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('choice'),
    values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
  }),
  z.strictObject({ type: z.literal('uniform'), min: z.number(), max: z.number() }),
  z.strictObject({ type: z.literal('logUniform'), min: z.number().positive(), max: z.number().positive() }),
  z.strictObject({ type: z.literal('int'), min: z.int(), max: z.int() }),
]);

/** Bandit: stop a trial whose metric falls outside a slack of the best trial's at the same step. */
const BanditPolicySchema = z.strictObject({
  policy: z.literal('bandit'),
  slackFactor: z
    .number()
    .positive()
    .optional()
    .meta({ description: 'Allowed ratio below the best, e.g. 0.1.' }),
  slackAmount: z.number().positive().optional().meta({ description: 'Allowed distance from the best.' }),
  evaluationInterval: z.int().min(1).default(1),
  delayEvaluation: z.int().min(0).default(0),
});
/** Median stopping: stop a trial whose best so far is worse than the median of the others' running averages. */
const MedianStoppingPolicySchema = z.strictObject({
  policy: z.literal('medianStopping'),
  evaluationInterval: z.int().min(1).default(1),
  delayEvaluation: z.int().min(0).default(0),
});
export const EarlyTerminationSchema = z
  .discriminatedUnion('policy', [BanditPolicySchema, MedianStoppingPolicySchema])
  .meta({
    description:
      'Stops running trials on the intermediate metrics they write to $SLUICE_METRICS with a `step` index.',
  });

/** `kind: sweep`: a search over the user's own trial command (Azure ML's HyperDriveStep). */
export const SweepStepSchema = z.strictObject({
  kind: z.literal('sweep'),
  metric: z
    .string()
    .min(1)
    .meta({ description: 'Metric name the trial command reports; the best trial wins.' }),
  goal: z.enum(['maximize', 'minimize']).default('maximize'),
  /** @default "halton" */
  sampler: z.enum(['grid', 'random', 'halton']).default('halton').meta({
    description:
      'grid: every combination of choice dimensions; random: seeded uniform draws; halton: a low-discrepancy sequence (choices walked as a grid). Default halton.',
  }),
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0)
    .meta({ description: 'Seed of the random sampler. Default 0.' }),
  maxTotalTrials: orParameter(
    z
      .int()
      .min(1)
      .max(1000)
      .meta({ description: 'Trials in all; grid: at most the grid size (its default).' }),
  ).optional(),
  maxConcurrentTrials: orParameter(z.int().min(1).max(64)).optional(),
  earlyTermination: EarlyTerminationSchema.optional(),
  task: z.string().min(1).optional().meta({
    description: 'Free text passed to trials as $SLUICE_AUTOML_TASK (kept from the former automl sweep).',
  }),
  searchSpace: z.record(z.string(), SearchDimensionSchema).meta({
    description: 'Trial parameters; the command uses them as ${{trial.NAME}}.',
  }),
  command: z.string().min(1).optional().meta({ description: 'Command template run once per trial.' }),
  args: argsField,
  code: codeField,
  inputs: z.record(z.string(), binding).optional(),
  outputs: z.record(z.string(), OutputSchema).optional(),
  ...commonStep,
});

/** Azure ML's AutoML model names (allowedModels / blockedModels). */
export const AUTOML_MODELS = [
  'LightGBM',
  'XGBoostClassifier',
  'XGBoostRegressor',
  'XGBoost',
  'RandomForest',
  'ExtremeRandomTrees',
  'LogisticRegression',
  'ElasticNet',
  'LassoLars',
  'KNN',
  'LinearSVM',
  'HistGradientBoosting',
  'SGD',
] as const;

const ColumnOverrideSchema = z.strictObject({
  type: z.enum(['numeric', 'categorical', 'datetime', 'text', 'ignore']).optional(),
  impute: z.enum(['mean', 'median', 'mostFrequent', 'constant']).optional(),
  fillValue: z.union([z.string(), z.number()]).optional(),
});

/**
 * What an automl step writes, under these names so pipelines port from Azure ML: the best model as an
 * MLflow-format directory, every trial as JSON lines, and what featurization did to each column.
 */
export const AUTOML_OUTPUTS = {
  best_model: { type: 'directory' },
  leaderboard: { type: 'file' },
  featurization: { type: 'file' },
} as const satisfies Record<string, { type: 'file' | 'directory' }>;

/** `kind: automl`: AutoML on FLAML (Azure ML's AutoML job): it chooses models and hyperparameters. */
export const AutomlStepSchema = z.strictObject({
  kind: z.literal('automl'),
  task: z.enum(['classification', 'regression', 'forecasting']),
  trainingData: binding.meta({ description: 'A CSV or Parquet file, or a folder of them.' }),
  labelColumn: z.string().min(1),
  validationData: binding
    .optional()
    .meta({ description: 'Held-out rows (CSV/Parquet), instead of validationSize.' }),
  validationSize: z
    .number()
    .gt(0)
    .lt(1)
    .optional()
    .meta({ description: 'Share of rows held out, e.g. 0.2.' }),
  nCrossValidations: orParameter(z.int().min(2).max(20)).optional(),
  primaryMetric: z.string().min(1).optional().meta({
    description:
      "Azure ML's metric name. Default: accuracy (classification), normalized_root_mean_squared_error (regression, forecasting).",
  }),
  /** @default "auto" */
  featurization: z
    .union([
      z.enum(['auto', 'off']),
      z.strictObject({
        mode: z.enum(['auto', 'off']).default('auto'),
        columns: z.record(z.string(), ColumnOverrideSchema).optional(),
      }),
    ])
    .default('auto'),
  allowedModels: z.array(z.enum(AUTOML_MODELS)).min(1).optional(),
  blockedModels: z.array(z.enum(AUTOML_MODELS)).optional(),
  limits: z
    .strictObject({
      timeout: orParameter(
        z.string().regex(DURATION_RE, { error: 'a time budget is a duration such as 60s or 15m' }),
      )
        .optional()
        .meta({
          description:
            'Search time budget for the whole step, e.g. 60s. Omit with maxTrials for exact reruns.',
        }),
      trialTimeout: orParameter(
        z.string().regex(DURATION_RE, { error: 'a duration such as 20s' }),
      ).optional(),
      maxTrials: orParameter(z.int().min(1).max(10_000)).optional(),
      maxConcurrentTrials: orParameter(z.int().min(1).max(64)).optional(),
      exitScore: z.number().optional(),
      enableEarlyTermination: z.boolean().default(true),
    })
    .optional(),
  /** @default false */
  ensemble: z
    .boolean()
    .default(false)
    .meta({ description: 'Soft-vote the best model of each family. Default false.' }),
  timeColumn: z.string().min(1).optional(),
  horizon: orParameter(z.int().min(1).max(10_000)).optional(),
  seriesIdColumns: z.array(z.string().min(1)).optional(),
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(42),
  ...commonStep,
});

export const ParallelRunStepSchema = z.strictObject({
  kind: z.literal('parallelRun'),
  input: binding.meta({ description: 'A directory whose files are split into mini-batches.' }),
  miniBatchSize: orParameter(
    z.int().min(1).max(1_000_000).meta({ description: 'Files per mini-batch. Default 10.' }),
  ).default(10),
  command: z.string().min(1).optional().meta({
    description: 'Run once per mini-batch; ${{minibatch}} is a file listing the batch paths.',
  }),
  args: argsField,
  code: codeField,
  inputs: z.record(z.string(), binding).optional().meta({
    description:
      'Side inputs every mini-batch job receives whole (a model, a lookup table); not split. `input` is reserved.',
  }),
  outputAction: z.enum(['appendRow', 'summaryOnly']).default('appendRow'),
  errorThreshold: orParameter(
    z.int().min(-1).max(1_000_000).meta({ description: 'Failed mini-batches tolerated; -1 = any.' }),
  ).default(-1),
  outputs: z.record(z.string(), OutputSchema).optional(),
  ...commonStep,
});

export const STEP_KINDS = ['command', 'dataTransfer', 'sweep', 'automl', 'parallelRun'] as const;

export const StepSchema = z
  .discriminatedUnion('kind', [
    CommandStepSchema,
    DataTransferStepSchema,
    SweepStepSchema,
    AutomlStepSchema,
    ParallelRunStepSchema,
  ])
  .meta({ description: 'A step; `kind` defaults to command.' });

// ---------------------------------------------------------------- the definition

export const PipelineDefinitionSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'Editors: the JSON Schema URL. Ignored by Sluice.' }),
    name: z.string().regex(PIPELINE_NAME_RE, { error: `a pipeline name is ${PIPELINE_NAME_RULE}` }),
    description,
    parameters: z.record(z.string(), ParameterSchema).optional(),
    inputs: z.record(z.string(), PipelineInputSchema).optional(),
    settings: SettingsSchema.optional(),
    environment: EnvironmentFieldSchema.optional().meta({
      description: 'The default environment of steps that declare none (lib/environments/README.md).',
    }),
    steps: z
      .record(z.string(), StepSchema)
      .meta({ description: 'Steps by name; the DAG comes from their data and after.' }),
  })
  .meta({ title: 'Sluice pipeline definition' });

export type PipelineDefinition = z.output<typeof PipelineDefinitionSchema>;
export type PipelineDefinitionInput = z.input<typeof PipelineDefinitionSchema>;
export type StepDefinition = z.output<typeof StepSchema>;
export type StepKind = StepDefinition['kind'];
export type CommandStep = z.output<typeof CommandStepSchema>;
export type DataTransferStep = z.output<typeof DataTransferStepSchema>;
export type SweepStep = z.output<typeof SweepStepSchema>;
export type AutomlStep = z.output<typeof AutomlStepSchema>;
export type ParallelRunStep = z.output<typeof ParallelRunStepSchema>;
export type ParameterDefinition = z.output<typeof ParameterSchema>;
export type PipelineInputDefinition = z.output<typeof PipelineInputSchema>;
export type OutputDefinition = z.output<typeof OutputSchema>;
export type PipelineSettings = z.output<typeof SettingsSchema>;

/** Field names per object kind, for "did you mean" on unknown keys. */
export const KNOWN_KEYS = {
  definition: Object.keys(PipelineDefinitionSchema.shape),
  settings: Object.keys(SettingsSchema.shape),
  input: Object.keys(PipelineInputSchema.shape),
  output: Object.keys(OutputSchema.shape),
  parameter: {
    integer: Object.keys(IntegerParameterSchema.shape),
    number: Object.keys(NumberParameterSchema.shape),
    string: Object.keys(StringParameterSchema.shape),
    boolean: Object.keys(BooleanParameterSchema.shape),
    enum: Object.keys(EnumParameterSchema.shape),
  } as Record<string, string[]>,
  step: {
    command: Object.keys(CommandStepSchema.shape),
    dataTransfer: Object.keys(DataTransferStepSchema.shape),
    sweep: Object.keys(SweepStepSchema.shape),
    automl: Object.keys(AutomlStepSchema.shape),
    parallelRun: Object.keys(ParallelRunStepSchema.shape),
  } as Record<string, string[]>,
};

/** The JSON Schema editors use (YAML language servers, VS Code). Input shape: defaults are optional. */
export function pipelineJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PipelineDefinitionSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, $id: 'https://sluice.dev/schemas/pipeline.json' };
}

/** Milliseconds in a duration such as `1h30m`; undefined when it does not parse. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m) return undefined;
  const [, h, mi, s, ms] = m;
  return ((Number(h ?? 0) * 60 + Number(mi ?? 0)) * 60 + Number(s ?? 0)) * 1000 + Number(ms ?? 0);
}
