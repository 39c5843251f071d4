/**
 * Azure ML's AutoML vocabulary and what it means on FLAML: metric names per task, and model names to
 * FLAML estimator names. One table each, so validation (publish), planning (run) and the Python runtime
 * agree; the runtime receives the FLAML names only. No imports: lib/pipelines reads these at publish.
 */

export type AutomlTask = 'classification' | 'regression' | 'forecasting';

/**
 * Primary metrics by task. `flaml` is FLAML's built-in metric when it has one; otherwise the runtime
 * computes the metric itself (lib/automl/runtime/metrics.py) and hands FLAML a custom metric function.
 * `goal` is how Azure ranks it; FLAML always minimises a loss (1 − score for scores).
 */
export const PRIMARY_METRICS: Record<
  AutomlTask,
  Record<string, { flaml?: string; goal: 'maximize' | 'minimize' }>
> = {
  classification: {
    accuracy: { flaml: 'accuracy', goal: 'maximize' },
    AUC_weighted: { flaml: 'roc_auc', goal: 'maximize' },
    average_precision_score_weighted: { goal: 'maximize' },
    norm_macro_recall: { goal: 'maximize' },
    precision_score_weighted: { goal: 'maximize' },
  },
  regression: {
    spearman_correlation: { goal: 'maximize' },
    normalized_root_mean_squared_error: { goal: 'minimize' },
    r2_score: { flaml: 'r2', goal: 'maximize' },
    normalized_mean_absolute_error: { goal: 'minimize' },
  },
  forecasting: {
    spearman_correlation: { goal: 'maximize' },
    normalized_root_mean_squared_error: { goal: 'minimize' },
    r2_score: { flaml: 'r2', goal: 'maximize' },
    normalized_mean_absolute_error: { goal: 'minimize' },
  },
};

/** Azure ML's default primary metric per task. */
export const DEFAULT_METRIC: Record<AutomlTask, string> = {
  classification: 'accuracy',
  regression: 'normalized_root_mean_squared_error',
  forecasting: 'normalized_root_mean_squared_error',
};

/**
 * Azure ML model names → FLAML estimators, and the tasks each serves. FLAML's `lrl1`/`lrl2` are
 * classification only; ElasticNet and LassoLars are regression only.
 */
export const MODEL_ESTIMATORS: Record<string, { flaml: string[]; tasks: AutomlTask[] }> = {
  LightGBM: { flaml: ['lgbm'], tasks: ['classification', 'regression', 'forecasting'] },
  XGBoost: { flaml: ['xgboost'], tasks: ['classification', 'regression', 'forecasting'] },
  XGBoostClassifier: { flaml: ['xgboost'], tasks: ['classification'] },
  XGBoostRegressor: { flaml: ['xgboost'], tasks: ['regression', 'forecasting'] },
  RandomForest: { flaml: ['rf'], tasks: ['classification', 'regression', 'forecasting'] },
  ExtremeRandomTrees: { flaml: ['extra_tree'], tasks: ['classification', 'regression', 'forecasting'] },
  LogisticRegression: { flaml: ['lrl1', 'lrl2'], tasks: ['classification'] },
  ElasticNet: { flaml: ['enet'], tasks: ['regression'] },
  LassoLars: { flaml: ['lassolars'], tasks: ['regression'] },
  KNN: { flaml: ['kneighbor'], tasks: ['classification', 'regression'] },
  LinearSVM: { flaml: ['svc'], tasks: ['classification'] },
  HistGradientBoosting: { flaml: ['histgb'], tasks: ['classification', 'regression'] },
  SGD: { flaml: ['sgd'], tasks: ['classification', 'regression'] },
};

/** Models tried when `allowedModels` is not given (a family each, so each gets its own job). */
export const DEFAULT_MODELS: Record<AutomlTask, string[]> = {
  classification: ['LightGBM', 'XGBoost', 'RandomForest', 'ExtremeRandomTrees', 'LogisticRegression'],
  regression: ['LightGBM', 'XGBoost', 'RandomForest', 'ExtremeRandomTrees'],
  forecasting: ['LightGBM', 'XGBoost', 'RandomForest', 'ExtremeRandomTrees'],
};
