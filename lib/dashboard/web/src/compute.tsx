/**
 * Compute: the targets (GET /api/compute) and the agents working now; and one target's live view
 * (GET /api/compute/{name}/live, read again every 3 s while the page is open): queue depth, its agents
 * (heartbeat, version, running jobs, free resources, cached environments) and, on Slurm, Sluice's jobs.
 */
import { useEffect, useState } from 'preact/hooks';
import { enc, useApi } from './api';
import { LineChart } from './chart';
import { navigate } from './router';
import { ago, bytes, Empty, ErrorBox, KeyValues, Loading, msText } from './ui';
import type { TargetLiveView } from '../../../compute/live-view';

interface Resources {
  cpu?: number;
  memoryGb?: number;
  gpu?: number;
}

interface Target {
  name: string;
  backend: 'agent' | 'slurm';
  settings: Record<string, unknown>;
  environment?: Record<string, string>;
  resources?: Resources;
  defaults?: Resources;
  updatedAt?: string;
}

type AgentLive = NonNullable<TargetLiveView['agents']>[number];

type Live = TargetLiveView;

/** The live view is read this often while a target's page is open. */
const LIVE_MS = 3000;
/** An agent that has not written its presence for this long is shown as stale (it writes every 5 s). */
const STALE_MS = 20_000;

export function resourcesText(r?: Resources): string {
  if (!r) return '—';
  const parts = [
    r.cpu !== undefined ? `${r.cpu} CPU` : '',
    r.memoryGb !== undefined ? `${Math.round(r.memoryGb * 10) / 10} GB` : '',
    r.gpu ? `${r.gpu} GPU` : '',
  ].filter(Boolean);
  return parts.join(' · ') || '—';
}

const settingsText = (t: Target): string =>
  Object.entries(t.settings ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

export function ComputePage({ name }: { name?: string }) {
  if (name) return <TargetPage key={name} name={name} />;
  return <TargetsPage />;
}

function TargetsPage() {
  const t = useApi<{ items: Target[] }>('/compute', { pollMs: 5000 });
  const agents = useApi<{
    items: Array<{
      agentId: string;
      pool: string;
      runningJobs: number;
      lastHeartbeatAt?: string;
      jobs: Array<{ runId: string; step: string }>;
    }>;
  }>('/compute/agents', { pollMs: 5000 });
  if (!t.data) return t.error ? <ErrorBox error={t.error} /> : <Loading />;
  return (
    <section>
      <h1>Compute</h1>
      <p class="muted">
        Targets are managed with <code>npx sluice compute add NAME …</code> (
        <code>SLUICE_COMPUTE_TARGETS</code> seeds them). Open one for its live view: agents, queue depth and
        Slurm jobs.
      </p>
      <table class="list" data-test="targets">
        <thead>
          <tr>
            <th>Target</th>
            <th>Backend</th>
            <th>Settings</th>
            <th>Limits per step</th>
            <th>Environment (part of the cache key)</th>
          </tr>
        </thead>
        <tbody>
          {t.data.items.map((x) => (
            <tr class="click" data-target={x.name} onClick={() => navigate(`#/compute/${enc(x.name)}`)}>
              <td>
                <a href={`#/compute/${enc(x.name)}`}>{x.name}</a>
              </td>
              <td>{x.backend}</td>
              <td class="mono small">{settingsText(x)}</td>
              <td>{resourcesText(x.resources)}</td>
              <td>
                <KeyValues values={x.environment ?? {}} empty="—" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Agents working now</h2>
      {agents.error && <ErrorBox error={agents.error} />}
      {!agents.data ? (
        <Loading />
      ) : !agents.data.items.length ? (
        <Empty>No agent is running a job right now. A target's page lists its idle agents too.</Empty>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Pool</th>
              <th>Running jobs</th>
              <th>Last heartbeat</th>
              <th>Working on</th>
            </tr>
          </thead>
          <tbody>
            {agents.data.items.map((a) => (
              <tr>
                <td class="mono">{a.agentId}</td>
                <td class="mono">{a.pool}</td>
                <td class="num">{a.runningJobs}</td>
                <td>{ago(a.lastHeartbeatAt)}</td>
                <td class="small">
                  {a.jobs.map((j) => (
                    <div>
                      <a href={`#/runs/${j.runId}?step=${enc(j.step)}`}>{j.runId.slice(0, 12)}</a> {j.step}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TargetPage({ name }: { name: string }) {
  const target = useApi<Target>(`/compute/${enc(name)}`);
  const live = useApi<Live>(`/compute/${enc(name)}/live`, { pollMs: LIVE_MS });
  const l = live.data;
  const history = useLiveHistory(l);
  if (!target.data) return target.error ? <ErrorBox error={target.error} /> : <Loading />;
  const t = target.data;
  return (
    <section data-target-page={name}>
      <div class="title-row">
        <h1>
          {t.name} <span class="tag">{t.backend}</span>
        </h1>
        <div class="actions">
          <button onClick={() => navigate('#/compute')}>All targets</button>
        </div>
      </div>
      <dl class="facts">
        <dt>Settings</dt>
        <dd class="mono">{settingsText(t) || '—'}</dd>
        <dt>Limits per step</dt>
        <dd>{resourcesText(t.resources)}</dd>
        <dt>Defaults</dt>
        <dd>{resourcesText(t.defaults)}</dd>
        <dt>Queue depth</dt>
        <dd data-test="queue-depth">{l ? l.queueDepth : '…'}</dd>
        <dt>Updated</dt>
        <dd class="muted" data-test="live-at">
          {l ? `live, read ${new Date(l.at).toLocaleTimeString()}` : ''}
        </dd>
      </dl>
      {!!Object.keys(t.environment ?? {}).length && (
        <>
          <h2>Declared environment</h2>
          <KeyValues values={t.environment ?? {}} />
        </>
      )}
      {live.error && <ErrorBox error={live.error} />}
      {l?.problems?.map((p) => (
        <ErrorBox error={p} />
      ))}
      {!l ? (
        <Loading />
      ) : (
        <>
          {history.length > 1 && <h2>Activity</h2>}
          {history.length > 1 && (
            <LineChart
              title="Jobs while this page is open"
              xLabel="seconds"
              integerX
              height={160}
              series={[
                { label: 'waiting', points: history.map((h) => ({ x: h.x, value: h.waiting })) },
                { label: 'running', points: history.map((h) => ({ x: h.x, value: h.running })) },
              ]}
            />
          )}
          {l.agents && <Agents agents={l.agents} />}
          {l.slurmJobs && <SlurmJobs jobs={l.slurmJobs} />}
        </>
      )}
    </section>
  );
}

/** The last few minutes of readings (kept in the page only): jobs waiting and running over time. */
function useLiveHistory(l?: Live): Array<{ x: number; waiting: number; running: number }> {
  const [history, setHistory] = useState<Array<{ x: number; waiting: number; running: number }>>([]);
  const [t0] = useState(() => Date.now());
  useEffect(() => {
    if (!l) return;
    const running =
      (l.agents ?? []).reduce((n, a) => n + a.running.length, 0) +
      (l.slurmJobs ?? []).filter((j) => j.state === 'RUNNING').length;
    const x = Math.round((Date.now() - t0) / 1000); // the browser's clock: the server's may differ
    setHistory((h) => [...h.slice(-99), { x, waiting: l.queueDepth, running }]);
  }, [l?.at]);
  return history;
}

function Agents({ agents }: { agents: AgentLive[] }) {
  if (!agents.length)
    return (
      <>
        <h2>Agents</h2>
        <Empty>
          No agent serves this pool: start one with{' '}
          <code>npx sluice agent --endpoint URL --key KEY --pool P</code>.
        </Empty>
      </>
    );
  return (
    <>
      <h2>Agents</h2>
      <table class="list" data-test="agents">
        <thead>
          <tr>
            <th>Agent</th>
            <th>Version</th>
            <th>Heartbeat</th>
            <th>Running jobs</th>
            <th>Free / capacity</th>
            <th>Cached environments</th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr data-agent={a.agentId} class={a.heartbeatAgeMs > STALE_MS ? 'stale' : ''}>
              <td class="mono">{a.agentId}</td>
              <td class="mono">{a.version}</td>
              <td data-test="heartbeat">
                {msText(a.heartbeatAgeMs)} ago{a.heartbeatAgeMs > STALE_MS ? ' (stale)' : ''}
              </td>
              <td class="small" data-test="running">
                {a.running.length === 0
                  ? '—'
                  : a.running.map((j) => {
                      const [runId = '', jobId = ''] = j.split('/');
                      return (
                        <div>
                          <a href={`#/runs/${enc(runId)}?step=${enc(jobId.split('.')[0] ?? '')}`}>
                            {runId.slice(0, 12)}
                          </a>{' '}
                          <span class="mono">{jobId}</span>
                        </div>
                      );
                    })}
              </td>
              <td class="small">
                {resourcesText(a.free)} <span class="muted">/ {resourcesText(a.capacity)}</span>
              </td>
              <td class="small" data-test="environments">
                <Environments a={a} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Environments({ a }: { a: AgentLive }) {
  if (a.environments?.length)
    return (
      <ul class="envs">
        {a.environments.map((e) => (
          <li data-env={e.key} title={[`sha256:${e.key}`, ...e.lockHead].join('\n')}>
            {e.names?.length ? <strong>{e.names.join(', ')}</strong> : null}{' '}
            <span class="mono">{e.key.slice(0, 12)}</span> {e.python ? `python ${e.python}` : e.tool},{' '}
            {e.packages} package{e.packages === 1 ? '' : 's'}, {bytes(e.sizeBytes)}
            <span class="muted"> · used {ago(e.lastUsedAt ?? e.builtAt)}</span>
          </li>
        ))}
      </ul>
    );
  return a.cachedEnvironments.length ? <span class="mono">{a.cachedEnvironments.join(' ')}</span> : <>—</>;
}

function SlurmJobs({ jobs }: { jobs: NonNullable<Live['slurmJobs']> }) {
  return (
    <>
      <h2>Slurm jobs</h2>
      {!jobs.length ? (
        <Empty>No Sluice job is in this partition's queue.</Empty>
      ) : (
        <table class="list" data-test="slurm-jobs">
          <thead>
            <tr>
              <th>Job</th>
              <th>State</th>
              <th>Reason</th>
              <th>Name</th>
              <th>Elapsed</th>
              <th>Node</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr>
                <td class="mono">{j.id}</td>
                <td>{j.state}</td>
                <td class="muted">{j.reason}</td>
                <td class="mono small">{j.name}</td>
                <td>{j.elapsed}</td>
                <td class="mono">{j.node}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
