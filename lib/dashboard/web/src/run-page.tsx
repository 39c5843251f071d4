/**
 * One run. The run document is read once, then again every 2 s only while the run is active; metrics,
 * batches and logs are read when their tab (or step) is opened, never on every poll.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, enc, useApi, type Run, type Step } from './api';
import { Graph, type GraphNode } from './graph';
import { navigate } from './router';
import { BatchesTab } from './batches';
import { Leaderboard } from './leaderboard';
import { LogsView, MetricsTab, OutputsList, Timeline } from './run-tabs';
import { duration, ErrorBox, KeyValues, Loading, Pill, Tabs, when } from './ui';

type Tab = 'graph' | 'timeline' | 'logs' | 'parameters' | 'outputs' | 'metrics' | 'batches';

const ACTIVE = new Set(['Queued', 'Running']);

/** The second line of a step's box: why it ran, or that it was reused. */
export function stepDetail(s: Step): string {
  if (s.status === 'Reused')
    return 'reused' + (s.reusedFrom ? ` from ${s.reusedFrom.runId.slice(0, 10)}` : '');
  if (s.waitingFor) return `waiting for ${s.waitingFor.runId.slice(0, 10)}`;
  if (s.batches)
    return `${s.batches.succeeded}/${s.batches.total} batches${s.batches.failed ? `, ${s.batches.failed} failed` : ''}`;
  if (s.error) return s.error.code;
  if (s.cache?.decision === 'run') return s.cache.changes?.[0]?.message ?? s.cache.reason;
  return s.status === 'NotStarted' ? '' : duration(s.startedAt, s.finishedAt);
}

export function RunPage({ runId, query }: { runId: string; query: URLSearchParams }) {
  const run = useApi<Run>(`/runs/${enc(runId)}`, { pollMs: 2000, poll: (r) => ACTIVE.has(r.status) });
  const tab = (query.get('tab') as Tab) ?? 'graph';
  const selected = query.get('step') ?? undefined;
  const setQuery = (k: string, v?: string) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`#/runs/${enc(runId)}?${q.toString()}`);
  };
  const r = run.data;
  const hasBatches = !!r?.steps.some((s) => s.batches);
  const tabs: Array<[Tab, string]> = [
    ['graph', 'Graph'],
    ['timeline', 'Timeline'],
    ['logs', 'Logs'],
    ['parameters', 'Parameters'],
    ['outputs', 'Outputs'],
    ['metrics', 'Metrics'],
    ...(hasBatches ? ([['batches', 'Batches & trials']] as Array<[Tab, string]>) : []),
  ];
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.tagName === 'INPUT' || t.tagName === 'SELECT' || e.metaKey || e.ctrlKey || e.altKey) return;
      const n = Number(e.key);
      if (n >= 1 && n <= tabs.length) setQuery('tab', tabs[n - 1]![0]);
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, [tabs.length, query.toString()]);

  const shapeKey = r ? r.steps.map((s) => `${s.name}<${(s.dependsOn ?? []).join(',')}`).join(';') : '';
  const nodes: GraphNode[] = useMemo(
    () =>
      (r?.steps ?? []).map((s) => ({
        id: s.name,
        label: s.name,
        status: s.status,
        detail: stepDetail(s),
        reused: s.status === 'Reused',
      })),
    [r],
  );
  const edges = useMemo(
    () => (r?.steps ?? []).flatMap((s) => (s.dependsOn ?? []).map((d) => ({ from: d, to: s.name }))),
    [shapeKey],
  );

  if (!r) return run.error ? <ErrorBox error={run.error} /> : <Loading />;
  const step = r.steps.find((s) => s.name === selected);
  const act = async (what: 'cancel' | 'rerun') => {
    try {
      const res = await api<{ runId: string }>(`/runs/${enc(r.runId)}/${what}`, { method: 'POST' });
      if (res?.runId && res.runId !== r.runId) navigate(`#/runs/${res.runId}`);
      else run.reload();
    } catch (e) {
      alert((e as Error).message);
    }
  };
  return (
    <section>
      <div class="title-row">
        <h1>
          <span class="mono">{r.runId}</span> <Pill status={r.status} />
        </h1>
        <div class="actions">
          {ACTIVE.has(r.status) && <button onClick={() => void act('cancel')}>Cancel</button>}
          <button onClick={() => void act('rerun')}>Rerun</button>
          <button onClick={() => navigate(`#/runs?pipeline=${enc(r.pipeline)}`)}>Other runs</button>
        </div>
      </div>
      <dl class="facts">
        <dt>Pipeline</dt>
        <dd>
          <a href={`#/pipelines/${enc(r.pipeline)}`}>{r.pipeline}</a>{' '}
          {r.version > 0 ? (
            `v${r.version}`
          ) : (
            <span class="tag" title={r.definitionHash}>
              draft {-r.version}
            </span>
          )}
        </dd>
        <dt>Trigger</dt>
        <dd>{r.trigger.type}</dd>
        <dt>Started</dt>
        <dd>{when(r.startedAt ?? r.createdAt)}</dd>
        <dt>Duration</dt>
        <dd>{duration(r.startedAt, r.finishedAt)}</dd>
        <dt>Steps</dt>
        <dd>
          {r.steps.filter((s) => s.status === 'Completed').length} ran,{' '}
          {r.steps.filter((s) => s.status === 'Reused').length} reused
          {r.steps.some((s) => s.status === 'Failed')
            ? `, ${r.steps.filter((s) => s.status === 'Failed').length} failed`
            : ''}{' '}
          of {r.steps.length}
        </dd>
        {r.rerunOf && (
          <>
            <dt>Rerun of</dt>
            <dd>
              <a href={`#/runs/${r.rerunOf}`}>{r.rerunOf}</a>
            </dd>
          </>
        )}
      </dl>
      {r.error && <ErrorBox error={r.error} />}
      <Tabs tabs={tabs} active={tab} onSelect={(t) => setQuery('tab', t)} />
      {tab === 'graph' && (
        <>
          <div class="split">
            <Graph
              nodes={nodes}
              edges={edges}
              shapeKey={shapeKey}
              selected={selected}
              onSelect={(id) => setQuery('step', id)}
            />
            {step ? (
              <StepPanel run={r} step={step} />
            ) : (
              <p class="muted side">Select a step to see why it ran, its outputs and its log.</p>
            )}
          </div>
          {!!step?.leaderboard?.length && <Leaderboard key={step.name} run={r} step={step} />}
        </>
      )}
      {tab === 'timeline' && (
        <Timeline run={r} onSelect={(id) => navigate(`#/runs/${enc(r.runId)}?tab=graph&step=${enc(id)}`)} />
      )}
      {tab === 'logs' && <LogsTab run={r} selected={selected} onSelect={(s) => setQuery('step', s)} />}
      {tab === 'parameters' && (
        <div class="cols">
          <div>
            <h2>Parameters</h2>
            <KeyValues values={r.parameters} empty="This run has no parameters." />
          </div>
          <div>
            <h2>Inputs</h2>
            <KeyValues values={r.inputs} empty="No pipeline inputs." />
            <h2>Tags</h2>
            <KeyValues values={r.tags} empty="No tags." />
          </div>
        </div>
      )}
      {tab === 'outputs' && <OutputsList run={r} />}
      {tab === 'metrics' && <MetricsTab run={r} />}
      {tab === 'batches' && <BatchesTab run={r} />}
    </section>
  );
}

function LogsTab({
  run,
  selected,
  onSelect,
}: {
  run: Run;
  selected?: string;
  onSelect: (s: string) => void;
}) {
  const name = selected ?? run.steps.find((s) => s.status !== 'NotStarted')?.name ?? run.steps[0]?.name;
  const step = run.steps.find((s) => s.name === name);
  return (
    <div class="logs-layout">
      <ul class="step-list">
        {run.steps.map((s) => (
          <li>
            <button class={s.name === name ? 'active' : ''} onClick={() => onSelect(s.name)}>
              <Pill status={s.status} /> {s.name}
            </button>
          </li>
        ))}
      </ul>
      {step && <LogsView run={run} step={step} />}
    </div>
  );
}

function StepPanel({ run, step }: { run: Run; step: Step }) {
  const [showLog, setShowLog] = useState(false);
  useEffect(() => setShowLog(false), [step.name]);
  return (
    <aside class="side step-panel" data-step={step.name}>
      <h2>
        {step.name} <Pill status={step.status} />
      </h2>
      <dl class="facts small">
        <dt>Why</dt>
        <dd data-test="reason">
          {step.status === 'Reused'
            ? `Reused: same cache key as ${step.reusedFrom ? `run ${step.reusedFrom.runId}` : 'an earlier run'}.`
            : (step.cache?.reason ?? (step.status === 'NotStarted' ? 'Not started yet.' : '—'))}
        </dd>
        {step.reusedFrom && (
          <>
            <dt>From</dt>
            <dd>
              <a href={`#/runs/${step.reusedFrom.runId}?step=${enc(step.reusedFrom.step)}`}>
                {step.reusedFrom.runId}
              </a>
            </dd>
          </>
        )}
        <dt>Duration</dt>
        <dd>{duration(step.startedAt, step.finishedAt) || '—'}</dd>
        <dt>Attempts</dt>
        <dd>{step.attempts}</dd>
        {step.cache && (
          <>
            <dt>Cache key</dt>
            <dd class="mono" title={step.cache.key}>
              {step.cache.key.slice(7, 23)}…
            </dd>
          </>
        )}
      </dl>
      {!!step.cache?.changes?.length && (
        <>
          <h3>
            Changed since{' '}
            {step.cache.since ? (
              <a href={`#/runs/${step.cache.since}`}>{step.cache.since.slice(0, 12)}</a>
            ) : (
              'the last run'
            )}
          </h3>
          <ul class="changes">
            {step.cache.changes.map((c) => (
              <li>{c.message}</li>
            ))}
          </ul>
        </>
      )}
      {step.error && <ErrorBox error={`${step.error.code}: ${step.error.message}`} />}
      {step.bestTrial && (
        <p>
          Best trial {step.bestTrial.index}: {step.bestTrial.metric} = {step.bestTrial.value}
        </p>
      )}
      {!!step.leaderboard?.length && (
        <p data-test="leaderboard-link">
          <a
            href="#"
            onClick={(e) => {
              e.preventDefault();
              document.querySelector('[data-leaderboard]')?.scrollIntoView({ block: 'start' });
            }}
          >
            Leaderboard: {step.leaderboard.length} trial{step.leaderboard.length === 1 ? '' : 's'} ↓
          </a>
        </p>
      )}
      {!step.leaderboard && step.reusedFrom && step.outputs?.leaderboard && (
        // A Reused step keeps its outputs, not its trials: they are on the run that computed them.
        <p data-test="leaderboard-link">
          <a href={`#/runs/${enc(step.reusedFrom.runId)}?step=${enc(step.reusedFrom.step)}`}>
            Leaderboard: on the run it reused →
          </a>
        </p>
      )}
      {step.outputs && (
        <>
          <h3>Outputs</h3>
          <OutputsList run={run} only={step.name} compact />
        </>
      )}
      <button onClick={() => setShowLog((v) => !v)}>{showLog ? 'Hide log' : 'Show log'}</button>
      {showLog && <LogsView run={run} step={step} />}
    </aside>
  );
}
