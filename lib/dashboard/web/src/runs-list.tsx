/**
 * Runs, newest first. Pipeline and status filter on the server; trigger, tag and time filter the pages
 * already loaded (the API does not index them), and "Load more" fetches the next page. Tick two or more
 * runs to compare them.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, enc } from './api';
import { navigate, useKeyList } from './router';
import { ago, duration, Empty, ErrorBox, Pill, short, when } from './ui';

interface RunSummary {
  runId: string;
  pipeline: string;
  version: number;
  status: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  tags: Record<string, string>;
  trigger: { type: string; schedule?: string; queue?: string; draft?: boolean };
}

const STATUSES = ['', 'Queued', 'Running', 'Completed', 'Failed', 'Canceled'];
const TRIGGERS = ['', 'rest', 'schedule', 'queue'];
const SINCE: Array<[string, string]> = [
  ['', 'any time'],
  ['1h', 'last hour'],
  ['24h', 'last 24 hours'],
  ['7d', 'last 7 days'],
];
const SINCE_MS: Record<string, number> = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };

export function RunsList({ query }: { query: URLSearchParams }) {
  const f = {
    pipeline: query.get('pipeline') ?? '',
    status: query.get('status') ?? '',
    trigger: query.get('trigger') ?? '',
    tag: query.get('tag') ?? '',
    since: query.get('since') ?? '',
  };
  const [items, setItems] = useState<RunSummary[]>([]);
  const [token, setToken] = useState<string | undefined>();
  const [error, setError] = useState<string>();
  const [loaded, setLoaded] = useState(false);
  const [picked, setPicked] = useState<string[]>([]);
  const serverQuery = new URLSearchParams();
  if (f.pipeline) serverQuery.set('pipeline', f.pipeline);
  if (f.status) serverQuery.set('status', f.status);
  serverQuery.set('limit', '50');

  // Answers for filters no longer shown (a refresh in flight when they changed) are dropped.
  const current = useRef('');
  current.current = serverQuery.toString();
  const load = async (more?: string) => {
    const asked = serverQuery.toString();
    try {
      const page = await api<{ items: RunSummary[]; continuationToken?: string }>(
        `/runs?${asked}${more ? `&continuationToken=${enc(more)}` : ''}`,
      );
      if (asked !== current.current) return;
      setItems((prev) => (more ? [...prev, ...page.items] : page.items));
      setToken(page.continuationToken);
      setError(undefined);
    } catch (e) {
      setError((e as Error).message);
    }
    setLoaded(true);
  };

  // Once older pages are loaded the list stays as it is; until then the first page (summaries, not run
  // documents) is refreshed every 5 s, so new runs and status changes show up.
  const pagedOn = useRef(false);
  useEffect(() => {
    pagedOn.current = false;
    void load();
    const t = setInterval(() => {
      if (!pagedOn.current) void load();
    }, 5000);
    return () => clearInterval(t);
  }, [serverQuery.toString()]);

  const set = (k: string, v: string) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v);
    else q.delete(k);
    navigate(`#/runs?${q.toString()}`);
  };

  const [tagKey, tagValue] = f.tag.includes('=') ? f.tag.split(/=(.*)/) : [f.tag, undefined];
  const shown = items.filter(
    (r) =>
      (!f.trigger || r.trigger?.type === f.trigger) &&
      (!f.tag || (tagKey! in (r.tags ?? {}) && (tagValue === undefined || r.tags[tagKey!] === tagValue))) &&
      (!f.since || Date.now() - Date.parse(r.createdAt) <= (SINCE_MS[f.since] ?? Infinity)),
  );
  const focus = useKeyList(shown.length, (i) => navigate(`#/runs/${shown[i]!.runId}`));
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));

  return (
    <section>
      <div class="title-row">
        <h1>Runs</h1>
        <button
          class="primary"
          disabled={picked.length < 2}
          onClick={() => navigate(`#/compare?ids=${picked.map(enc).join(',')}`)}
          data-test="compare-selected"
        >
          Compare {picked.length >= 2 ? picked.length : ''} selected
        </button>
      </div>
      <div class="filters" role="search">
        <label>
          Pipeline
          <input
            id="filter-pipeline"
            value={f.pipeline}
            placeholder="any"
            onChange={(e) => set('pipeline', (e.target as HTMLInputElement).value.trim())}
          />
        </label>
        <label>
          Status
          <select value={f.status} onChange={(e) => set('status', (e.target as HTMLSelectElement).value)}>
            {STATUSES.map((s) => (
              <option value={s}>{s || 'any'}</option>
            ))}
          </select>
        </label>
        <label>
          Trigger
          <select value={f.trigger} onChange={(e) => set('trigger', (e.target as HTMLSelectElement).value)}>
            {TRIGGERS.map((s) => (
              <option value={s}>{s || 'any'}</option>
            ))}
          </select>
        </label>
        <label>
          Tag
          <input
            value={f.tag}
            placeholder="key or key=value"
            onChange={(e) => set('tag', (e.target as HTMLInputElement).value.trim())}
          />
        </label>
        <label>
          Started
          <select value={f.since} onChange={(e) => set('since', (e.target as HTMLSelectElement).value)}>
            {SINCE.map(([v, l]) => (
              <option value={v}>{l}</option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={error} />
      {loaded && !shown.length ? (
        <Empty>
          No runs{items.length ? ' match these filters' : ' yet: publish a pipeline and start one with '}
          {!items.length && <code>npx sluice run NAME</code>}
        </Empty>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th class="narrow" aria-label="select" />
              <th>Run</th>
              <th>Pipeline</th>
              <th>Status</th>
              <th>Trigger</th>
              <th>Tags</th>
              <th>Created</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r, i) => (
              <tr
                class={`click ${focus === i ? 'focused' : ''}`}
                data-run={r.runId}
                onClick={() => navigate(`#/runs/${r.runId}`)}
              >
                <td class="narrow" onClick={(e) => e.stopPropagation()}>
                  <input
                    type="checkbox"
                    aria-label={`select ${r.runId}`}
                    checked={picked.includes(r.runId)}
                    onChange={() => toggle(r.runId)}
                  />
                </td>
                <td class="mono">
                  <a href={`#/runs/${r.runId}`}>{short(r.runId, 14)}</a>
                </td>
                <td>
                  {r.pipeline}
                  <span class="muted">{r.version > 0 ? ` v${r.version}` : ` draft ${-r.version}`}</span>
                </td>
                <td>
                  <Pill status={r.status} />
                </td>
                <td>
                  {r.trigger?.type === 'schedule' ? `schedule ${r.trigger.schedule ?? ''}` : r.trigger?.type}
                </td>
                <td>
                  {Object.entries(r.tags ?? {}).map(([k, v]) => (
                    <span class="tag">
                      {k}={v}
                    </span>
                  ))}
                </td>
                <td title={when(r.createdAt)}>{ago(r.createdAt)}</td>
                <td>{duration(r.startedAt, r.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {token && (
        <button
          onClick={() => {
            pagedOn.current = true;
            void load(token);
          }}
          data-test="load-more"
        >
          Load more
        </button>
      )}
    </section>
  );
}
