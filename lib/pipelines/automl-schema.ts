import { z } from 'zod';
import { DURATION_RE, orParameter } from './formats';
import { binding, commonStep } from './step-fields';

/**
 * `kind: automl`: AutoML on FLAML (Azure ML's AutoML job), which chooses models and hyperparameters:
 * the task, the data and how to validate, the models, the search limits, and the outputs it writes.
 * Structure only; rules across fields (a metric the task knows, one way to validate, models that do the
 * task) live in search-steps.ts.
 */

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

export type AutomlStep = z.output<typeof AutomlStepSchema>;
