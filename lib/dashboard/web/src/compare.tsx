/**
 * Runs side by side (GET /api/runs/compare): parameters with differences highlighted, cache decisions,
 * durations, metrics; charts of one metric across all runs of the pipeline
 * (GET /api/pipelines/{name}/metrics) and of the compared runs' series overlaid (GET /api/runs/{id}/metrics).
 */
import { useEffect, useState } from 'preact/hooks';
import { allPages, api, enc, useApi, type Series } from './api';
import { LineChart } from './chart';
import { Empty, ErrorBox, Loading, msText, num, Pill, short } from './ui';

interface Cell {
  status: string;
  decision?: string;
  reason?: string;
  cacheKey?: string;
  durationMs?: number;
  reusedFrom?: string;
}

interface Comparison {
  runs: Array<{
    runId: string;
    pipeline: string;
    version: number;
    status: string;
    durationMs?: number;
    trigger: string;
    createdAt: string;
  }>;
  mixedPipelines: boolean;
  parameters: Array<{ name: string; values: unknown[]; differs: boolean }>;
  steps: Array<{ name: string; values: Array<Cell | null>; differs: boolean }>;
  metrics: Array<{
    name: string;
    step: string;
    metric: string;
    values: Array<number | null>;
    differs: boolean;
  }>;
}

const show = (v: unknown) =>
  v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v);

export function ComparePage({ query }: { query: URLSearchParams }) {
  const ids = (query.get('ids') ?? '').split(',').filter(Boolean);
  const c = useApi<Comparison>(ids.length >= 2 ? `/runs/compare?ids=${ids.map(enc).join(',')}` : null);
  if (ids.length < 2)
    return (
      <section>
        <h1>Compare runs</h1>
        <Empty>
          Tick two or more runs in the <a href="#/runs">runs list</a> and press Compare.
        </Empty>
      </section>
    );
  if (!c.data) return c.error ? <ErrorBox error={c.error} /> : <Loading />;
  const d = c.data;
  const head = (
    <tr>
      <th />
      {d.runs.map((r) => (
        <th class="mono">
          <a href={`#/runs/${r.runId}`}>{short(r.runId, 12)}</a>
        </th>
      ))}
    </tr>
  );
  const onlyDiff = query.get('diff') === '1';
  return (
    <section>
      <h1>Compare {d.runs.length} runs</h1>
      {d.mixedPipelines && <p class="warn">These runs are of different pipelines; rows line up by name.</p>}
      <table class="compare">
        <thead>{head}</thead>
        <tbody>
          <tr>
            <th>Pipeline</th>
            {d.runs.map((r) => (
              <td>
                {r.pipeline} {r.version > 0 ? `v${r.version}` : `draft ${-r.version}`}
              </td>
            ))}
          </tr>
          <tr>
            <th>Status</th>
            {d.runs.map((r) => (
              <td>
                <Pill status={r.status} />
              </td>
            ))}
          </tr>
          <tr>
            <th>Duration</th>
            {d.runs.map((r) => (
              <td>{msText(r.durationMs)}</td>
            ))}
          </tr>
          <tr>
            <th>Trigger</th>
            {d.runs.map((r) => (
              <td>{r.trigger}</td>
            ))}
          </tr>
        </tbody>
      </table>
      <div class="title-row">
        <h2>Parameters</h2>
        <label class="small">
          <input
            type="checkbox"
            checked={onlyDiff}
            onChange={(e) => {
              const q = new URLSearchParams(query);
              if ((e.target as HTMLInputElement).checked) q.set('diff', '1');
              else q.delete('diff');
              location.hash = `#/compare?${q.toString()}`;
            }}
          />{' '}
          only differences
        </label>
      </div>
      {d.parameters.length ? (
        <table class="compare" data-test="parameters">
          <thead>{head}</thead>
          <tbody>
            {d.parameters
              .filter((p) => !onlyDiff || p.differs)
              .map((p) => (
                <tr class={p.differs ? 'differs' : ''}>
                  <th>{p.name}</th>
                  {p.values.map((v) => (
                    <td class="mono">{show(v)}</td>
                  ))}
                </tr>
              ))}
          </tbody>
        </table>
      ) : (
        <Empty>No parameters.</Empty>
      )}
      <h2>Steps</h2>
      <table class="compare" data-test="steps">
        <thead>{head}</thead>
        <tbody>
          {d.steps
            .filter((s) => !onlyDiff || s.differs)
            .map((s) => (
              <tr class={s.differs ? 'differs' : ''}>
                <th>{s.name}</th>
                {s.values.map((v) => (
                  <td>
                    {v ? (
                      <>
                        <Pill status={v.status} /> <span class="muted small">{msText(v.durationMs)}</span>
                        <div class="small muted" title={v.reason}>
                          {v.decision === 'reused'
                            ? `reused${v.reusedFrom ? ` from ${short(v.reusedFrom, 8)}` : ''}`
                            : (v.reason ?? '')}
                        </div>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                ))}
              </tr>
            ))}
        </tbody>
      </table>
      <h2>Metrics (last value)</h2>
      {d.metrics.length ? (
        <table class="compare" data-test="metrics">
          <thead>{head}</thead>
          <tbody>
            {d.metrics.map((m) => (
              <tr class={m.differs ? 'differs' : ''}>
                <th>{m.name}</th>
                {m.values.map((v) => (
                  <td class="num">{num(v)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <Empty>None of these runs logged metrics.</Empty>
      )}
      {d.metrics.length > 0 && <CompareCharts comparison={d} />}
    </section>
  );
}

function CompareCharts({ comparison: d }: { comparison: Comparison }) {
  const [pick, setPick] = useState(0);
  const m = d.metrics[Math.min(pick, d.metrics.length - 1)]!;
  const [series, setSeries] = useState<Series[][]>();
  const [across, setAcross] = useState<Array<{ runId: string; value?: number }>>();
  const [error, setError] = useState<string>();
  const overlaid = d.runs.slice(0, 8);
  useEffect(() => {
    Promise.all(
      overlaid.map((r) => api<{ series: Series[] }>(`/runs/${enc(r.runId)}/metrics`).then((x) => x.series)),
    )
      .then(setSeries)
      .catch((e: Error) => setError(e.message));
  }, [d.runs.map((r) => r.runId).join()]);
  const pipeline = d.runs[0]!.pipeline;
  useEffect(() => {
    setAcross(undefined);
    allPages<{ runId: string; values: Array<{ step: string; last: number }> }>(
      `/pipelines/${enc(pipeline)}/metrics?metric=${enc(m.metric)}&step=${enc(m.step)}&limit=100`,
      300,
    )
      .then((items) =>
        setAcross(
          items
            .reverse()
            .map((it) => ({ runId: it.runId, ...(it.values[0] ? { value: it.values[0].last } : {}) })),
        ),
      )
      .catch((e: Error) => setError(e.message));
  }, [pipeline, m.step, m.metric]);
  const acrossPoints = (across ?? []).flatMap((a, i) =>
    a.value === undefined ? [] : [{ x: i, value: a.value }],
  );
  return (
    <div>
      <div class="title-row">
        <h2>Charts</h2>
        <label>
          Metric{' '}
          <select
            value={String(pick)}
            onChange={(e) => setPick(Number((e.target as HTMLSelectElement).value))}
            data-test="metric-pick"
          >
            {d.metrics.map((x, i) => (
              <option value={String(i)}>{x.name}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={error} />
      <div class="charts">
        {series ? (
          <LineChart
            title={`${m.name}: compared runs overlaid`}
            xLabel="step"
            series={overlaid.map((r, i) => ({
              label: short(r.runId, 10),
              points: series[i]?.find((s) => s.step === m.step && s.name === m.metric)?.points ?? [],
            }))}
          />
        ) : (
          <Loading />
        )}
        {across ? (
          acrossPoints.length ? (
            <LineChart
              title={`${m.name} across ${acrossPoints.length} runs of ${pipeline}`}
              xLabel="run (oldest → newest)"
              xNames={(across ?? []).map((a) => a.runId.slice(2, 8))}
              series={[{ label: `${m.metric} (last)`, points: acrossPoints }]}
            />
          ) : (
            <Empty>No run of {pipeline} logged it.</Empty>
          )
        ) : (
          <Loading />
        )}
      </div>
    </div>
  );
}
