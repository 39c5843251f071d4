import { parseDuration } from '../pipelines/formats';
import type { AutomlStep } from '../pipelines/automl-schema';
import { DEFAULT_METRIC, DEFAULT_MODELS, MODEL_ESTIMATORS, PRIMARY_METRICS } from './names';

/**
 * Pure planning for the `automl` step kind: how a FLAML search is cut into agent jobs. One job per
 * estimator family (LightGBM, XGBoost, …), each with its share of the time budget or of maxTrials, runs
 * at most `maxConcurrentTrials` at a time through the batch machinery; a final gather job picks the best
 * and writes the outputs. Nothing here does I/O, so the cache key, a replay and the tests agree.
 */

/** What every job of the step receives as $SLUICE_AUTOML_CONFIG (the runtime's whole input). */
export interface AutomlConfig {
  task: AutomlStep['task'];
  labelColumn: string;
  /** Azure ML's name; the runtime computes it (lib/automl/runtime/metrics.py). */
  metric: string;
  goal: 'maximize' | 'minimize';
  featurization: { mode: 'auto' | 'off'; columns?: Record<string, unknown> };
  validationSize?: number;
  nCrossValidations?: number;
  exitScore?: number;
  earlyStop: boolean;
  trialTimeoutS?: number;
  ensemble: boolean;
  seed: number;
  timeColumn?: string;
  horizon?: number;
  seriesIdColumns?: string[];
}

/** One family's job: which FLAML estimators it searches and its share of the limits. */
export interface FamilyPlan {
  family: string;
  estimators: string[];
  /**
   * Seconds of this family job's wall clock, its start-up included: the runtime gives FLAML what is left
   * of it when the search starts, less a second for the final refit (automl_runtime.py `search_budget`).
   * Absent: bounded by maxIter only (exactly reproducible).
   */
  timeBudgetS?: number;
  maxIter?: number;
}

/**
 * Seconds of the step's budget kept for what follows the family jobs: the engine enqueueing the gather
 * and an agent claiming it, and the gather job itself (Python start, imports, loading the family models,
 * writing the outputs). Measured by `npm run bench` (automl.gather_s); lib/automl/README.md. @default 4
 */
export const GATHER_RESERVE_S = 4;

/** The smallest wall-clock share a family job gets, however small the budget: start-up alone takes ~2 s. */
export const MIN_FAMILY_SHARE_S = 3;

/** The step's settings as the runtime reads them. */
export function automlConfig(def: AutomlStep): AutomlConfig {
  const metric = def.primaryMetric ?? DEFAULT_METRIC[def.task];
  const f = def.featurization;
  const limits = def.limits;
  const trialTimeout = limits?.trialTimeout ? parseDuration(limits.trialTimeout) : undefined;
  return {
    task: def.task,
    labelColumn: def.labelColumn,
    metric,
    goal: PRIMARY_METRICS[def.task][metric]?.goal ?? 'maximize',
    featurization:
      typeof f === 'string' ? { mode: f } : { mode: f.mode, ...(f.columns ? { columns: f.columns } : {}) },
    ...(def.validationSize !== undefined ? { validationSize: def.validationSize } : {}),
    ...(def.nCrossValidations !== undefined ? { nCrossValidations: def.nCrossValidations } : {}),
    ...(limits?.exitScore !== undefined ? { exitScore: limits.exitScore } : {}),
    earlyStop: limits?.enableEarlyTermination ?? true,
    ...(trialTimeout ? { trialTimeoutS: trialTimeout / 1000 } : {}),
    ensemble: def.ensemble,
    seed: def.seed,
    ...(def.timeColumn ? { timeColumn: def.timeColumn } : {}),
    ...(def.horizon !== undefined ? { horizon: def.horizon } : {}),
    ...(def.seriesIdColumns ? { seriesIdColumns: def.seriesIdColumns } : {}),
  };
}

/** The model families to search, in a fixed order: allowed (or the task's defaults) minus blocked. */
export function families(def: AutomlStep): Array<{ family: string; estimators: string[] }> {
  const blocked = new Set(def.blockedModels ?? []);
  const names: string[] = (def.allowedModels ?? DEFAULT_MODELS[def.task]).filter(
    (m) => !blocked.has(m as never),
  );
  const seen = new Set<string>();
  const out: Array<{ family: string; estimators: string[] }> = [];
  for (const name of names) {
    const spec = MODEL_ESTIMATORS[name];
    if (!spec || !spec.tasks.includes(def.task)) continue;
    const estimators = spec.flaml.filter((e) => !seen.has(e));
    estimators.forEach((e) => seen.add(e));
    if (estimators.length) out.push({ family: name, estimators });
  }
  return out;
}

/** How many family jobs run at once: maxConcurrentTrials, else the run's concurrency, at most one per family. */
export function familySlots(def: AutomlStep, runConcurrency: number): number {
  return Math.max(1, Math.min(families(def).length || 1, def.limits?.maxConcurrentTrials ?? runConcurrency));
}

/**
 * Each family's share. With a time budget T and F families run `slots` at a time, the jobs run in
 * ⌈F / slots⌉ waves, so each gets (T − GATHER_RESERVE_S) / waves of wall clock (at least
 * MIN_FAMILY_SHARE_S), its own start-up included: the runtime measures that and searches for the rest.
 * maxTrials is spread evenly (the first families take the remainder), at least one trial each.
 */
export function planFamilies(def: AutomlStep, runConcurrency: number): FamilyPlan[] {
  const fams = families(def);
  const slots = familySlots(def, runConcurrency);
  const waves = Math.ceil(fams.length / slots);
  const budgetMs = def.limits?.timeout ? parseDuration(def.limits.timeout) : undefined;
  const maxTrials = def.limits?.maxTrials;
  return fams.map((f, i) => ({
    ...f,
    ...(budgetMs !== undefined
      ? {
          timeBudgetS: Math.max(
            MIN_FAMILY_SHARE_S,
            Math.floor(((budgetMs / 1000 - GATHER_RESERVE_S) / waves) * 10) / 10,
          ),
        }
      : {}),
    ...(maxTrials !== undefined
      ? {
          maxIter: Math.max(1, Math.floor(maxTrials / fams.length) + (i < maxTrials % fams.length ? 1 : 0)),
        }
      : {}),
  }));
}

/**
 * Seconds a family job may run past twice its share before it is killed: room for a first build of the
 * AutoML environment on its agent (10–40 s with uv's wheel cache warm, minutes when every wheel is
 * downloaded), which runs within the job's limit. @default 300
 */
export const FAMILY_TIMEOUT_SLACK_S = 300;

/**
 * The wall-clock limit of one family job: twice its share plus FAMILY_TIMEOUT_SLACK_S; the step's own
 * `timeout`, when shorter, wins. Without a time budget, undefined (the step's). A limit, not a plan:
 * the runtime itself keeps the job within its share (see automl_runtime.py `search_budget`).
 */
export function familyTimeoutMs(plan: FamilyPlan): number | undefined {
  return plan.timeBudgetS === undefined
    ? undefined
    : Math.ceil((plan.timeBudgetS * 2 + FAMILY_TIMEOUT_SLACK_S) * 1000);
}

/**
 * The cache key's account of the step: every setting that changes what it computes (the data, code
 * and environment are separate components). Stable JSON: key order fixed by construction.
 */
export function automlKeyText(def: AutomlStep, runConcurrency: number): string {
  return `automl(${JSON.stringify({
    config: automlConfig(def),
    // Each family's share depends on how many run at once, so the slots are part of what it computes.
    families: planFamilies(def, runConcurrency),
    slots: familySlots(def, runConcurrency),
  })})`;
}
