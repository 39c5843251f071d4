import { DEFAULT_METRIC, MODEL_ESTIMATORS, PRIMARY_METRICS, type AutomlTask } from '../automl/names';
import { didYouMean, listNames } from './suggest';

/**
 * Publish-time rules of the two search step kinds that need more than one field: a `sweep` (the user's
 * command over a search space) and an `automl` step (FLAML chooses models). Pure; tolerant of any shape
 * (the schema reports wrong types). Problems carry a path relative to the step.
 */

type Obj = Record<string, unknown>;
type StepProblem = { path: Array<string | number>; message: string };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function sweepProblems(step: Obj): StepProblem[] {
  const out: StepProblem[] = [];
  const space = isObj(step.searchSpace) ? step.searchSpace : {};
  if (step.sampler === 'grid') {
    for (const [name, dim] of Object.entries(space))
      if (isObj(dim) && dim.type !== 'choice')
        out.push({
          path: ['searchSpace', name, 'type'],
          message: `A grid sweep walks choice dimensions only; "${name}" is ${String(dim.type)}. Give it type: choice with values, or use sampler: random or halton.`,
        });
  } else if (step.maxTotalTrials === undefined)
    out.push({
      path: ['maxTotalTrials'],
      message: `A ${typeof step.sampler === 'string' ? step.sampler : 'halton'} sweep needs maxTotalTrials (how many trials to run in all); only a grid sweep defaults to its grid size.`,
    });
  for (const [name, dim] of Object.entries(space))
    if (isObj(dim) && typeof dim.min === 'number' && typeof dim.max === 'number' && dim.min > dim.max)
      out.push({
        path: ['searchSpace', name, 'min'],
        message: `min ${dim.min} is greater than max ${dim.max}.`,
      });
  const et = step.earlyTermination;
  if (
    isObj(et) &&
    et.policy === 'bandit' &&
    (et.slackFactor === undefined) === (et.slackAmount === undefined)
  )
    out.push({
      path: ['earlyTermination'],
      message:
        'A bandit policy takes one of slackFactor (a ratio, e.g. 0.1) or slackAmount (a distance), not both or neither.',
    });
  return out;
}

export function automlProblems(step: Obj): StepProblem[] {
  const out: StepProblem[] = [];
  const task = step.task as AutomlTask;
  if (!(task in PRIMARY_METRICS)) return out; // the schema reports the task
  const metrics = Object.keys(PRIMARY_METRICS[task]);
  if (typeof step.primaryMetric === 'string' && !metrics.includes(step.primaryMetric))
    out.push({
      path: ['primaryMetric'],
      message: `"${step.primaryMetric}" is not a primary metric for ${task}.${didYouMean(step.primaryMetric, metrics)} Use one of ${listNames(metrics)} (default ${DEFAULT_METRIC[task]}).`,
    });
  const given = ['validationData', 'validationSize', 'nCrossValidations'].filter(
    (k) => step[k] !== undefined,
  );
  if (given.length > 1)
    out.push({
      path: [given[1]!],
      message: `Give one way to validate: ${given.join(' and ')} were both given. validationData (held-out rows), validationSize (a share held out) or nCrossValidations (folds).`,
    });
  const models = (field: 'allowedModels' | 'blockedModels'): string[] =>
    Array.isArray(step[field])
      ? (step[field] as unknown[]).filter((m): m is string => typeof m === 'string')
      : [];
  models('allowedModels').forEach((m, i) => {
    const spec = MODEL_ESTIMATORS[m];
    if (!spec) return; // the schema lists the names
    if (!spec.flaml.length)
      out.push({
        path: ['allowedModels', i],
        message: `${m} has no FLAML estimator here; allow LightGBM, XGBoost, RandomForest, ExtremeRandomTrees or another listed model.`,
      });
    else if (!spec.tasks.includes(task))
      out.push({
        path: ['allowedModels', i],
        message: `${m} does not do ${task}; it serves ${spec.tasks.join(', ')}.`,
      });
  });
  const blocked = new Set(models('blockedModels'));
  const allowed = models('allowedModels');
  allowed.forEach((m, i) => {
    if (blocked.has(m))
      out.push({
        path: ['allowedModels', i],
        message: `${m} is both allowed and blocked; remove it from one list.`,
      });
  });
  if (allowed.length && allowed.every((m) => blocked.has(m) || !MODEL_ESTIMATORS[m]?.flaml.length))
    out.push({
      path: ['allowedModels'],
      message: 'No model is left to try once blocked and unsupported models are removed.',
    });
  if (task === 'forecasting') {
    if (typeof step.timeColumn !== 'string')
      out.push({
        path: ['timeColumn'],
        message: 'A forecasting step needs timeColumn: the column holding each row’s time.',
      });
    if (step.horizon === undefined)
      out.push({
        path: ['horizon'],
        message: 'A forecasting step needs horizon: how many periods ahead to forecast.',
      });
  } else
    for (const k of ['timeColumn', 'horizon', 'seriesIdColumns'])
      if (step[k] !== undefined)
        out.push({
          path: [k],
          message: `${k} applies to task: forecasting only; remove it or set the task.`,
        });
  const label = step.labelColumn;
  if (typeof label === 'string') {
    if (label === step.timeColumn)
      out.push({ path: ['timeColumn'], message: `"${label}" cannot be both the label and the time column.` });
    if (Array.isArray(step.seriesIdColumns) && step.seriesIdColumns.includes(label))
      out.push({ path: ['seriesIdColumns'], message: `The label column "${label}" cannot be a series id.` });
    const f = step.featurization;
    const cols = isObj(f) && isObj(f.columns) ? f.columns : {};
    if (isObj(cols[label]))
      out.push({
        path: ['featurization', 'columns', label],
        message: `"${label}" is the label column; featurization overrides apply to feature columns only.`,
      });
  }
  const limits = isObj(step.limits) ? step.limits : {};
  if (limits.timeout === undefined && limits.maxTrials === undefined)
    out.push({
      path: ['limits'],
      message:
        'Bound the search: give limits.timeout (a time budget, e.g. 60s) or limits.maxTrials (exactly reproducible), or both.',
    });
  return out;
}
