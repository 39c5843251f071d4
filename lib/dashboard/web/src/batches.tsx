/** A run's parallelRun, sweep and automl steps: batch progress, mini-batches or trials, and leaderboards. */
import { enc, useApi, type Run, type Step } from './api';
import { Leaderboard } from './leaderboard';
import { duration, ErrorBox, num, Pill } from './ui';

const ACTIVE = new Set(['Queued', 'Running']);

export interface Batch {
  batch: number;
  attempt: number;
  state: string;
  startedAt?: string;
  finishedAt?: string;
  failure?: { code: string; message: string };
  metrics: Array<{ name: string; value: number }>;
  parameters?: Record<string, unknown>;
}

export interface Batches {
  kind: 'automl' | 'parallelRun';
  metric?: string;
  goal?: string;
  bestTrial?: { index: number };
  items: Batch[];
}

/** parallelRun progress and batches; automl leaderboards (trials ranked by the step's metric). */
export function BatchesTab({ run }: { run: Run }) {
  const steps = run.steps.filter((s) => s.batches);
  return (
    <div>
      {steps.map((s) => (
        <>
          <BatchStep run={run} step={s} />
          {!!s.leaderboard?.length && <Leaderboard run={run} step={s} />}
        </>
      ))}
    </div>
  );
}

function BatchStep({ run, step }: { run: Run; step: Step }) {
  const b = step.batches!;
  const data = useApi<Batches>(`/runs/${enc(run.runId)}/steps/${enc(step.name)}/batches`, {
    pollMs: 3000,
    poll: () => ACTIVE.has(step.status),
  });
  const seg = (n: number, cls: string) =>
    n ? <div class={`seg ${cls}`} style={{ flex: n }} title={`${n} ${cls}`} /> : null;
  const d = data.data;
  const latest = new Map<number, Batch>();
  for (const x of d?.items ?? []) if ((latest.get(x.batch)?.attempt ?? 0) < x.attempt) latest.set(x.batch, x);
  let rows = [...latest.values()];
  const metric = d?.metric;
  const valueOf = (x: Batch) => {
    const ms = x.metrics.filter((m) => m.name === metric);
    return ms.length ? ms[ms.length - 1]!.value : undefined;
  };
  if (d?.kind === 'automl')
    rows = rows.sort((x, y) => {
      const [a, c] = [valueOf(x), valueOf(y)];
      if (a === undefined) return 1;
      if (c === undefined) return -1;
      return d.goal === 'minimize' ? a - c : c - a;
    });
  const paramNames = [...new Set(rows.flatMap((x) => Object.keys(x.parameters ?? {})))];
  return (
    <div class="batch-step" data-batches={step.name}>
      <h2>
        {step.name} <Pill status={step.status} />{' '}
        <span class="muted small">
          {b.succeeded}/{b.total} succeeded{b.failed ? `, ${b.failed} failed` : ''}
          {b.running ? `, ${b.running} running` : ''}
          {b.retrying ? `, ${b.retrying} retrying` : ''}
        </span>
      </h2>
      <div class="progress" aria-label="batch progress">
        {seg(b.succeeded, 'ok')}
        {seg(b.failed, 'bad')}
        {seg(b.running, 'run')}
        {seg(Math.max(0, b.total - b.succeeded - b.failed - b.running), 'todo')}
      </div>
      {data.error && <ErrorBox error={data.error} />}
      {d && (
        <table class="list">
          <thead>
            <tr>
              {d.kind === 'automl' && <th>Rank</th>}
              <th>{d.kind === 'automl' ? 'Trial' : 'Batch'}</th>
              {paramNames.map((p) => (
                <th>{p}</th>
              ))}
              {metric && <th>{metric}</th>}
              <th>State</th>
              <th>Attempt</th>
              <th>Duration</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {rows.slice(0, 300).map((x, i) => (
              <tr class={d.bestTrial?.index === x.batch ? 'best' : ''}>
                {d.kind === 'automl' && <td>{valueOf(x) === undefined ? '' : i + 1}</td>}
                <td>
                  {x.batch}
                  {d.bestTrial?.index === x.batch ? ' ★' : ''}
                </td>
                {paramNames.map((p) => (
                  <td class="num">{num(x.parameters?.[p])}</td>
                ))}
                {metric && <td class="num">{num(valueOf(x))}</td>}
                <td>
                  <Pill status={x.state} />
                </td>
                <td>{x.attempt}</td>
                <td>{duration(x.startedAt, x.finishedAt)}</td>
                <td class="muted small">{x.failure ? `${x.failure.code}: ${x.failure.message}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
