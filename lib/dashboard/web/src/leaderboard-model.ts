/**
 * The leaderboard's decisions, pure (unit-tested in test/unit/dashboard): which metric a step ranks by
 * and its goal, which row is the best, the chart's series, and sorting by a column. No DOM, no JSX, so
 * the root tsconfig compiles it for the tests as the dashboard's Vite build bundles it.
 */
import { DEFAULT_METRIC, PRIMARY_METRICS, type AutomlTask } from '../../../automl/names';
import type { LeaderboardRow } from '../../../runs/leaderboard-row';

export type { LeaderboardRow };

/** What the leaderboard reads of a step record. */
export interface BoardStep {
  leaderboard?: LeaderboardRow[];
  bestTrial?: { index: number; metric: string };
}

export interface TrialSeries {
  label: string;
  points: Array<{ x: number; value: number }>;
}

export type Goal = 'maximize' | 'minimize';

/** Azure ML's metric goals (lib/automl/names.ts), for metrics whose goal the definition does not say. */
export const GOALS: Record<string, Goal> = Object.fromEntries(
  Object.values(PRIMARY_METRICS).flatMap((byName) => Object.entries(byName).map(([k, v]) => [k, v.goal])),
);

export interface Primary {
  metric: string;
  goal: Goal;
}

/** What the leaderboard reads of a step's definition. */
export interface StepDef {
  kind?: string;
  task?: AutomlTask;
  primaryMetric?: string;
  metric?: string;
  goal?: Goal;
}

/** The metric a step ranks by: from its definition when known, else the one the ranking is sorted by. */
export function primaryOf(step: BoardStep, def?: StepDef): Primary | undefined {
  if (def?.kind === 'sweep' && def.metric) return { metric: def.metric, goal: def.goal ?? 'maximize' };
  if (def?.kind === 'automl') {
    const metric = def.primaryMetric ?? (def.task ? DEFAULT_METRIC[def.task] : undefined);
    if (metric) return { metric, goal: GOALS[metric] ?? 'maximize' };
  }
  const rows = step.leaderboard ?? [];
  if (step.bestTrial) {
    const { metric } = step.bestTrial;
    // A sweep's rows are ranked best first: the goal is the direction the metric moves along them.
    const vs = rows.map((r) => r.metrics?.[metric]).filter((v): v is number => v !== undefined);
    return { metric, goal: vs.length > 1 && vs[0]! < vs[vs.length - 1]! ? 'minimize' : 'maximize' };
  }
  return inferPrimary(rows);
}

/** The first metric (known primary metrics first) whose values are ordered by rank on the completed rows. */
export function inferPrimary(rows: readonly LeaderboardRow[]): Primary | undefined {
  const done = rows.filter((r) => r.status === 'Completed' && r.metrics);
  const names = Object.keys(done[0]?.metrics ?? {}).sort((a, b) => Number(!GOALS[a]) - Number(!GOALS[b]));
  for (const metric of names) {
    const vs = done.map((r) => r.metrics![metric]);
    if (vs.some((v) => v === undefined)) continue;
    const goal: Goal = GOALS[metric] ?? (vs[0]! >= vs[vs.length - 1]! ? 'maximize' : 'minimize');
    if (vs.every((v, i) => i === 0 || (goal === 'maximize' ? vs[i - 1]! >= v! : vs[i - 1]! <= v!)))
      return { metric, goal };
  }
  return undefined;
}

export const modelOf = (r: LeaderboardRow): string =>
  r.family
    ? `${r.family}${r.model && r.model !== r.family ? ` / ${r.model}` : ''}`
    : `trial ${r.trial ?? '?'}`;

/** Hyperparameters as `name=value` pairs, values formatted by `fmt`. */
export const paramsText = (
  h: Record<string, unknown> | undefined,
  fmt: (v: unknown) => string = String,
): string =>
  Object.entries(h ?? {})
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join('  ');

/** The best trial: rank 1 when it completed (both producers rank best first, failed last). */
export function isBest(step: BoardStep, r: LeaderboardRow): boolean {
  if (step.bestTrial) return r.trial === step.bestTrial.index && r.status === 'Completed';
  return r.rank === 1 && r.status === 'Completed';
}

/**
 * The chart's series: a sweep's trials in the order they were sampled, with the best so far; an automl
 * step's trials per model family in FLAML's order (trial numbers count within a family).
 */
export function trialSeries(rows: readonly LeaderboardRow[], p: Primary): TrialSeries[] {
  const withValue = rows.filter((r) => r.trial !== undefined && r.metrics?.[p.metric] !== undefined);
  const families = [...new Set(withValue.map((r) => r.family ?? ''))];
  if (families.length === 1 && families[0] === '') {
    const points = withValue
      .map((r) => ({ x: r.trial!, value: r.metrics![p.metric]! }))
      .sort((a, b) => a.x - b.x);
    let best: number | undefined;
    const bestSoFar = points.map((pt) => {
      if (best === undefined || (p.goal === 'maximize' ? pt.value > best : pt.value < best)) best = pt.value;
      return { x: pt.x, value: best };
    });
    return [
      { label: p.metric, points },
      { label: 'best so far', points: bestSoFar },
    ];
  }
  return families.map((f) => ({
    label: f,
    points: withValue
      .filter((r) => (r.family ?? '') === f)
      .map((r) => ({ x: r.trial!, value: r.metrics![p.metric]! }))
      .sort((a, b) => a.x - b.x),
  }));
}

export type SortKey = 'rank' | 'model' | 'status' | 'duration' | 'params' | `m:${string}`;

function sortValue(r: LeaderboardRow, key: SortKey): number | string | undefined {
  if (key === 'rank') return r.rank;
  if (key === 'model') return modelOf(r);
  if (key === 'status') return r.status;
  if (key === 'duration') return r.durationS;
  if (key === 'params') return paramsText(r.hyperparameters);
  return r.metrics?.[key.slice(2)];
}

/** Rows sorted by one column; rows without a value stay last whichever way the column is sorted. */
export function sortRows(rows: readonly LeaderboardRow[], key: SortKey, desc: boolean): LeaderboardRow[] {
  return [...rows].sort((a, b) => {
    const [x, y] = [sortValue(a, key), sortValue(b, key)];
    if (x === undefined || y === undefined) return x === y ? a.rank - b.rank : x === undefined ? 1 : -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return (desc ? -c : c) || a.rank - b.rank;
  });
}
