/** The run page's tabs: timeline (Gantt), logs, outputs, metrics and batches/trials. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiKey, apiText, enc, useApi, type Run, type Series, type Step } from './api';
import type { Batch, Batches } from './batches';
import { LineChart } from './chart';
import { outputPath, Preview } from './preview';
import { bytes, Empty, ErrorBox, Loading, msText, num, STATUS_COLOR } from './ui';

const ACTIVE = new Set(['Queued', 'Running']);

/** Steps and their batches as bars on one time axis (queued time lighter than running time). */
export function Timeline({ run, onSelect }: { run: Run; onSelect: (step: string) => void }) {
  const batchSteps = run.steps.filter((s) => s.batches && s.status !== 'Reused');
  const [batches, setBatches] = useState<Record<string, Batch[]>>({});
  useEffect(() => {
    for (const s of batchSteps)
      fetchJson<Batches>(`/runs/${enc(run.runId)}/steps/${enc(s.name)}/batches`)
        .then((b) => setBatches((prev) => ({ ...prev, [s.name]: b.items })))
        .catch(() => undefined);
  }, [run.runId, batchSteps.map((s) => `${s.name}:${s.batches?.succeeded}:${s.batches?.failed}`).join()]);
  const times = run.steps.flatMap((s) => [s.queuedAt, s.startedAt, s.finishedAt]).filter(Boolean) as string[];
  if (!times.length) return <Empty>No step has started yet.</Empty>;
  const t0 = Math.min(...times.map(Date.parse), Date.parse(run.startedAt ?? run.createdAt));
  const end = ACTIVE.has(run.status) ? Date.now() : Math.max(...times.map(Date.parse));
  const span = Math.max(1, end - t0);
  const pct = (t: number) => `${(((t - t0) / span) * 100).toFixed(2)}%`;
  const width = (a: number, b: number) => `${Math.max(0.3, ((b - a) / span) * 100).toFixed(2)}%`;
  const rows: Array<{
    label: string;
    step: string;
    status: string;
    queued?: number;
    start?: number;
    endAt?: number;
    sub?: boolean;
  }> = [];
  for (const s of run.steps) {
    rows.push({
      label: s.name,
      step: s.name,
      status: s.status,
      ...(s.queuedAt ? { queued: Date.parse(s.queuedAt) } : {}),
      ...(s.startedAt ? { start: Date.parse(s.startedAt) } : {}),
      ...(s.startedAt ? { endAt: s.finishedAt ? Date.parse(s.finishedAt) : end } : {}),
    });
    for (const b of (batches[s.name] ?? []).slice(0, 200))
      rows.push({
        label: `batch ${b.batch}${b.attempt > 1 ? ` (attempt ${b.attempt})` : ''}`,
        step: s.name,
        status: b.state,
        sub: true,
        ...(b.startedAt
          ? { start: Date.parse(b.startedAt), endAt: b.finishedAt ? Date.parse(b.finishedAt) : end }
          : {}),
      });
  }
  return (
    <div class="gantt" role="table" aria-label="timeline">
      <div class="gantt-axis">
        <span>0</span>
        <span>{msText(span / 2)}</span>
        <span>{msText(span)}</span>
      </div>
      {rows.map((r) => (
        <div class={`gantt-row ${r.sub ? 'sub' : ''}`} role="row" onClick={() => onSelect(r.step)}>
          <div class="gantt-label" title={r.label}>
            {r.label}
          </div>
          <div class="gantt-track">
            {r.queued !== undefined && r.start !== undefined && r.start > r.queued && (
              <div class="bar queued" style={{ left: pct(r.queued), width: width(r.queued, r.start) }} />
            )}
            {r.start !== undefined && (
              <div
                class="bar"
                title={`${r.label}: ${msText(r.endAt! - r.start)}`}
                style={{
                  left: pct(r.start),
                  width: width(r.start, r.endAt!),
                  background: STATUS_COLOR[r.status] ?? 'var(--dim)',
                }}
              />
            )}
            {r.start === undefined && <span class="muted small gantt-none">{r.status}</span>}
          </div>
        </div>
      ))}
    </div>
  );
}

async function fetchJson<T>(path: string): Promise<T> {
  return JSON.parse(await apiText(path)) as T;
}

/**
 * A step's log: read once when the step has ended, streamed (?follow=true) while it runs. A batch step's
 * log is the overview of its batches' latest attempts.
 */
export function LogsView({ run, step }: { run: Run; step: Step }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const pre = useRef<HTMLPreElement>(null);
  const live = ACTIVE.has(step.status) && !step.batches;
  useEffect(() => {
    const ctrl = new AbortController();
    setText('');
    setError(undefined);
    const path = `/api/runs/${enc(run.runId)}/steps/${enc(step.name)}/logs${live ? '?follow=true' : ''}`;
    const key = apiKey();
    (async () => {
      const res = await fetch(path, { signal: ctrl.signal, headers: key ? { 'x-functions-key': key } : {} });
      if (!res.ok) throw new Error(`${res.status}: ${await res.text()}`);
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        setText((t) => t + dec.decode(value, { stream: true }));
      }
    })().catch((e: Error) => {
      if (e.name !== 'AbortError') setError(e.message);
    });
    return () => ctrl.abort();
    // A step that ends re-reads once (live → whole); polling the run does not refetch the log.
  }, [run.runId, step.name, live, live ? '' : step.finishedAt]);
  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text]);
  return (
    <div class="log-view">
      <div class="muted small">
        Log of {step.name}
        {step.reusedFrom ? ` (from run ${step.reusedFrom.runId})` : ''}
        {live ? ' · live' : ''}
      </div>
      <ErrorBox error={error} />
      <pre class="log" ref={pre} data-log={step.name}>
        {text || (step.status === 'NotStarted' ? 'Not started.' : '')}
      </pre>
    </div>
  );
}

/** Every output of the run (or of one step), with a preview on click. */
export function OutputsList({ run, only, compact }: { run: Run; only?: string; compact?: boolean }) {
  const [open, setOpen] = useState<{ step: string; output: string; path?: string; name: string }>();
  const rows = run.steps
    .filter((s) => !only || s.name === only)
    .flatMap((s) => Object.entries(s.outputs ?? {}).map(([name, o]) => ({ step: s.name, name, o })));
  if (!rows.length) return <Empty>No outputs yet.</Empty>;
  return (
    <div class={compact ? '' : 'outputs'}>
      <table class="list">
        <thead>
          <tr>
            {!compact && <th>Step</th>}
            <th>Output</th>
            <th>Type</th>
            {!compact && <th>Content hash</th>}
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              {!compact && <td>{r.step}</td>}
              <td>{r.name}</td>
              <td>{r.o.type}</td>
              {!compact && (
                <td class="mono muted" title={r.o.hash}>
                  {r.o.hash.slice(7, 19)}
                </td>
              )}
              <td>
                <button
                  data-output={`${r.step}/${r.name}`}
                  onClick={() => setOpen({ step: r.step, output: r.name, name: r.name })}
                >
                  {r.o.type === 'directory' ? 'Files' : 'Preview'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && <OutputView run={run} {...open} onOpen={setOpen} />}
    </div>
  );
}

function OutputView(props: {
  run: Run;
  step: string;
  output: string;
  path?: string;
  name: string;
  onOpen: (o: { step: string; output: string; path?: string; name: string }) => void;
}) {
  const o = props.run.steps.find((s) => s.name === props.step)?.outputs?.[props.output];
  const manifest = useApi<{ files: Array<{ path: string; size: number }> }>(
    o?.type === 'directory' && !props.path ? outputPath(props.run.runId, props.step, props.output) : null,
  );
  if (o?.type === 'directory' && !props.path) {
    if (!manifest.data) return manifest.error ? <ErrorBox error={manifest.error} /> : <Loading />;
    return (
      <div class="preview">
        <h3>
          {props.step}/{props.output}
        </h3>
        <ul class="files">
          {manifest.data.files.slice(0, 500).map((f) => (
            <li>
              <button class="link" onClick={() => props.onOpen({ ...props, path: f.path, name: f.path })}>
                {f.path}
              </button>{' '}
              <span class="muted">{bytes(f.size)}</span>
            </li>
          ))}
        </ul>
      </div>
    );
  }
  const file = props.path ?? (props.name.includes('.') ? props.name : `${props.output}`);
  return <Preview apiPath={outputPath(props.run.runId, props.step, props.output, props.path)} name={file} />;
}

/** Metric charts per step: one chart per metric with more than one point, a table of last values. */
export function MetricsTab({ run }: { run: Run }) {
  const m = useApi<{ series: Series[] }>(`/runs/${enc(run.runId)}/metrics`, {
    pollMs: 5000,
    poll: () => ACTIVE.has(run.status),
  });
  if (!m.data) return m.error ? <ErrorBox error={m.error} /> : <Loading />;
  const series = m.data.series;
  if (!series.length)
    return (
      <Empty>
        No metrics: a step logs them as JSON lines {'{"name":"accuracy","value":0.91,"step":3}'} to
        $SLUICE_METRICS.
      </Empty>
    );
  const steps = [...new Set(series.map((s) => s.step))];
  return (
    <div>
      {steps.map((step) => {
        const own = series.filter((s) => s.step === step);
        return (
          <div class="metric-step">
            <h2>{step}</h2>
            <table class="list narrow-table">
              <thead>
                <tr>
                  <th>Metric</th>
                  <th>Last</th>
                  <th>Min</th>
                  <th>Max</th>
                  <th>Points</th>
                </tr>
              </thead>
              <tbody>
                {own.map((s) => (
                  <tr>
                    <td>{s.name}</td>
                    <td class="num">{num(s.last)}</td>
                    <td class="num">{num(s.min)}</td>
                    <td class="num">{num(s.max)}</td>
                    <td class="num">{s.points.length}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <div class="charts">
              {own
                .filter((s) => s.points.length > 1)
                .map((s) => (
                  <LineChart
                    title={`${step} · ${s.name}`}
                    xLabel="step"
                    series={[{ label: s.name, points: s.points }]}
                  />
                ))}
            </div>
          </div>
        );
      })}
    </div>
  );
}
