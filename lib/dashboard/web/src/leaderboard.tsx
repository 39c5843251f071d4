/**
 * A sweep's or an automl step's leaderboard: every trial the step record keeps (`steps[].leaderboard`,
 * best first, at most 200) as a sortable table, and the primary metric over the trials as a chart. The
 * rows come with the run document; only a published run's definition is read once more, to learn the
 * primary metric (a draft's is inferred from the ranking).
 */
import { useMemo, useState } from 'preact/hooks';
import { enc, useApi, type Run, type Step } from './api';
import { LineChart } from './chart';
import {
  GOALS,
  isBest,
  modelOf,
  paramsText,
  primaryOf,
  sortRows,
  trialSeries,
  type Goal,
  type SortKey,
  type StepDef,
} from './leaderboard-model';
import { msText, num, Pill } from './ui';

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
                  <td class="mono small params" title={r.error ?? paramsText(r.hyperparameters, num)}>
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
