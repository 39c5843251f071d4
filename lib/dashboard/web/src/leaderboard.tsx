/**
 * A sweep's or an automl step's leaderboard: every trial the step record keeps (`steps[].leaderboard`,
 * best first, at most 200) as a sortable table, and the primary metric over the trials as a chart. The
 * rows come with the run document; only a published run's definition is read once more, to learn the
 * primary metric (a draft's is inferred from the ranking).
 */
import { useMemo, useState } from 'preact/hooks';
import { DEFAULT_METRIC, PRIMARY_METRICS, type AutomlTask } from '../../../automl/names';
import { enc, useApi, type LeaderboardRow, type Run, type Step } from './api';
import { LineChart, type ChartSeries } from './chart';
import { msText, num, Pill } from './ui';

type Goal = 'maximize' | 'minimize';

/** Azure ML's metric goals (lib/automl/names.ts), for metrics whose goal the definition does not say. */
const GOALS: Record<string, Goal> = Object.fromEntries(
  Object.values(PRIMARY_METRICS).flatMap((byName) => Object.entries(byName).map(([k, v]) => [k, v.goal])),
);

export interface Primary {
  metric: string;
  goal: Goal;
}

interface StepDef {
  kind?: string;
  task?: AutomlTask;
  primaryMetric?: string;
  metric?: string;
  goal?: Goal;
}

/** The metric a step ranks by: from its definition when known, else the one the ranking is sorted by. */
export function primaryOf(step: Step, def?: StepDef): Primary | undefined {
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

const modelOf = (r: LeaderboardRow): string =>
  r.family
    ? `${r.family}${r.model && r.model !== r.family ? ` / ${r.model}` : ''}`
    : `trial ${r.trial ?? '?'}`;

const paramsText = (h?: Record<string, unknown>): string =>
  Object.entries(h ?? {})
    .map(([k, v]) => `${k}=${num(v)}`)
    .join('  ');

/** The best trial: rank 1 when it completed (both producers rank best first, failed last). */
export function isBest(step: Step, r: LeaderboardRow): boolean {
  if (step.bestTrial) return r.trial === step.bestTrial.index && r.status === 'Completed';
  return r.rank === 1 && r.status === 'Completed';
}

/**
 * The chart's series: a sweep's trials in the order they were sampled, with the best so far; an automl
 * step's trials per model family in FLAML's order (trial numbers count within a family).
 */
export function trialSeries(rows: readonly LeaderboardRow[], p: Primary): ChartSeries[] {
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

type SortKey = 'rank' | 'model' | 'status' | 'duration' | 'params' | `m:${string}`;

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

const SHOWN = 50;

/** Long metric names (`average_precision_score_weighted`) may wrap after an underscore. */
const breakable = (label: string) =>
  label.split('_').map((part, i, all) => (i < all.length - 1 ? [part, '_', <wbr />] : part));

export function Leaderboard({ run, step }: { run: Run; step: Step }) {
  const rows = step.leaderboard ?? [];
  // A published run's definition names the primary metric; it is read once per step shown.
  const version = useApi<{ definition: { steps: Record<string, StepDef> } }>(
    run.version > 0 ? `/pipelines/${enc(run.pipeline)}/versions/${run.version}` : null,
  );
  const def = version.data?.definition.steps[step.reusedFrom?.step ?? step.name];
  const primary = primaryOf(step, def);
  const metricNames = useMemo(() => {
    const names = [...new Set(rows.flatMap((r) => Object.keys(r.metrics ?? {})))];
    return primary ? [primary.metric, ...names.filter((n) => n !== primary.metric)] : names;
  }, [rows, primary?.metric]);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'rank', desc: false });
  const [all, setAll] = useState(false);
  const [chartMetric, setChartMetric] = useState<string | undefined>(undefined);
  const goalOf = (metric: string): Goal =>
    metric === primary?.metric ? primary.goal : (GOALS[metric] ?? 'maximize');
  const shownMetric = chartMetric ?? primary?.metric ?? metricNames[0];
  const chartPrimary = shownMetric ? { metric: shownMetric, goal: goalOf(shownMetric) } : undefined;
  const series = useMemo(() => (chartPrimary ? trialSeries(rows, chartPrimary) : []), [rows, shownMetric]);
  const sorted = useMemo(() => sortRows(rows, sort.key, sort.desc), [rows, sort.key, sort.desc]);
  const best = rows.find((r) => isBest(step, r));
  const failed = rows.filter((r) => r.status !== 'Completed').length;

  const head = (key: SortKey, label: string, cls = '') => (
    <th
      class={`sortable ${cls}`}
      aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
      data-sort={key}
      onClick={() =>
        setSort((s) => ({
          key,
          // A metric column opens best first: descending for a metric to maximize.
          desc: s.key === key ? !s.desc : key.startsWith('m:') && goalOf(key.slice(2)) === 'maximize',
        }))
      }
    >
      {/* A button, so the column sorts from the keyboard too (Tab, Enter). */}
      <button class="th-sort" type="button">
        {breakable(label)}
        {sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );

  return (
    <section class="leaderboard" data-leaderboard={step.name}>
      <h2>
        Leaderboard of {step.name}{' '}
        <span class="muted small">
          {rows.length} trial{rows.length === 1 ? '' : 's'}
          {failed ? `, ${failed} not completed` : ''}
          {primary ? ` · ranked by ${primary.metric} (${primary.goal})` : ''}
        </span>
      </h2>
      {best && (
        <p data-test="best-trial">
          ★ Best: <b>{modelOf(best)}</b>
          {primary && best.metrics?.[primary.metric] !== undefined
            ? ` · ${primary.metric} = ${num(best.metrics[primary.metric])}`
            : ''}
        </p>
      )}
      {chartPrimary && series.some((s) => s.points.length) && (
        <div class="leaderboard-chart">
          {metricNames.length > 1 && (
            <label class="small muted">
              Chart{' '}
              <select
                data-test="leaderboard-metric"
                value={shownMetric}
                onChange={(e) => setChartMetric((e.target as HTMLSelectElement).value)}
              >
                {metricNames.map((m) => (
                  <option value={m}>{m}</option>
                ))}
              </select>
            </label>
          )}
          <LineChart
            title={`${chartPrimary.metric} over trials`}
            series={series}
            xLabel={
              series.length > 2 || series[1]?.label !== 'best so far' ? 'trial (within family)' : 'trial'
            }
            integerX
          />
        </div>
      )}
      <div class="scroll-x">
        <table class="list leaderboard-table">
          <thead>
            <tr>
              {head('rank', '#', 'num')}
              {head('model', 'Model')}
              {head('params', 'Hyperparameters')}
              {metricNames.map((m) => head(`m:${m}`, m, `num${m === primary?.metric ? ' primary' : ''}`))}
              {head('duration', 'Duration', 'num')}
              {head('status', 'Status')}
            </tr>
          </thead>
          <tbody>
            {(all ? sorted : sorted.slice(0, SHOWN)).map((r) => {
              const b = isBest(step, r);
              return (
                <tr class={b ? 'best' : ''} data-rank={r.rank} data-best={b ? 'true' : undefined}>
                  <td class="num">{r.rank}</td>
                  <td>
                    {b ? '★ ' : ''}
                    {modelOf(r)}
                  </td>
                  <td class="mono small params" title={r.error ?? paramsText(r.hyperparameters)}>
                    {r.error ? (
                      <span class="warn">{r.error}</span>
                    ) : (
                      Object.entries(r.hyperparameters ?? {}).map(([k, v]) => (
                        <span class="hp">{`${k}=${num(v)}`}</span>
                      ))
                    )}
                  </td>
                  {metricNames.map((m) => (
                    <td class={`num${m === primary?.metric ? ' primary' : ''}`}>{num(r.metrics?.[m])}</td>
                  ))}
                  <td class="num">{r.durationS !== undefined ? msText(r.durationS * 1000) : ''}</td>
                  <td>
                    <Pill status={r.status} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {rows.length > SHOWN && (
        <button onClick={() => setAll((a) => !a)}>
          {all ? `Show the first ${SHOWN}` : `Show all ${rows.length}`}
        </button>
      )}
    </section>
  );
}
