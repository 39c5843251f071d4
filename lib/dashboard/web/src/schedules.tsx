/** Schedules: next fire times and history. */
import { enc, useApi } from './api';
import { navigate } from './router';
import { ago, Empty, ErrorBox, Loading, Pill, when } from './ui';

interface Schedule {
  name: string;
  pipeline: string;
  cron?: string;
  recurrence?: unknown;
  timeZone?: string;
  enabled: boolean;
  nextFireTimes: string[];
  lastRun?: { runId: string; occurrence: string };
}

const rule = (s: Schedule) => s.cron ?? JSON.stringify(s.recurrence ?? '');

export function SchedulesPage({ name }: { name?: string }) {
  const list = useApi<{ items: Schedule[] }>('/schedules?limit=200');
  const history = useApi<{
    items: Array<{ occurrence: string; decision: string; runId?: string; reason?: string; at?: string }>;
  }>(name ? `/schedules/${enc(name)}/history?limit=50` : null);
  if (!list.data) return list.error ? <ErrorBox error={list.error} /> : <Loading />;
  const items = list.data.items;
  return (
    <section>
      <h1>Schedules</h1>
      {!items.length ? (
        <Empty>
          No schedules: <code>npx sluice schedules create NAME --pipeline P --cron "0 6 * * *"</code>
        </Empty>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Pipeline</th>
              <th>Rule</th>
              <th>State</th>
              <th>Next fire times</th>
              <th>Last run</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr
                class={`click ${s.name === name ? 'focused' : ''}`}
                onClick={() => navigate(`#/schedules/${enc(s.name)}`)}
              >
                <td>{s.name}</td>
                <td>
                  <a href={`#/pipelines/${enc(s.pipeline)}`}>{s.pipeline}</a>
                </td>
                <td class="mono">
                  {rule(s)} <span class="muted">{s.timeZone ?? 'UTC'}</span>
                </td>
                <td>
                  <Pill status={s.enabled ? 'Enabled' : 'Disabled'} />
                </td>
                <td class="small">
                  {(s.nextFireTimes ?? []).slice(0, 3).map((t) => (
                    <div>{when(t)}</div>
                  ))}
                </td>
                <td>
                  {s.lastRun ? <a href={`#/runs/${s.lastRun.runId}`}>{ago(s.lastRun.occurrence)}</a> : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {name && (
        <>
          <h2>History of {name}</h2>
          {history.error && <ErrorBox error={history.error} />}
          {!history.data ? (
            <Loading />
          ) : !history.data.items.length ? (
            <Empty>No occurrence decided yet.</Empty>
          ) : (
            <table class="list">
              <thead>
                <tr>
                  <th>Occurrence</th>
                  <th>Decision</th>
                  <th>Run</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {history.data.items.map((h) => (
                  <tr>
                    <td>{when(h.occurrence)}</td>
                    <td>{h.decision}</td>
                    <td class="mono">
                      {h.runId ? <a href={`#/runs/${h.runId}`}>{h.runId.slice(0, 14)}</a> : ''}
                    </td>
                    <td class="muted">{h.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
