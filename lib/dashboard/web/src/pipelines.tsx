/** Pipelines: the list, and one pipeline's versions with a line diff between any two. */
import { useEffect, useState } from 'preact/hooks';
import { api, enc, useApi } from './api';
import { navigate, useKeyList } from './router';
import { ago, Empty, ErrorBox, Loading, Pill, when } from './ui';

interface PipelineSummary {
  name: string;
  description?: string;
  latestVersion: number;
  defaultVersion: number;
  pinnedVersion: number | null;
  enabled: boolean;
  updatedAt: string;
}

export function PipelinesPage() {
  const list = useApi<{ items: PipelineSummary[] }>('/pipelines?limit=100');
  const items = list.data?.items ?? [];
  const focus = useKeyList(items.length, (i) => navigate(`#/pipelines/${enc(items[i]!.name)}`));
  if (!list.data) return list.error ? <ErrorBox error={list.error} /> : <Loading />;
  return (
    <section>
      <h1>Pipelines</h1>
      {!items.length ? (
        <Empty>
          Nothing published yet: <code>npx sluice publish pipeline.yaml</code>
        </Empty>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Default</th>
              <th>Latest</th>
              <th>State</th>
              <th>Updated</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p, i) => (
              <tr
                class={`click ${focus === i ? 'focused' : ''}`}
                onClick={() => navigate(`#/pipelines/${enc(p.name)}`)}
              >
                <td>
                  <a href={`#/pipelines/${enc(p.name)}`}>{p.name}</a>
                </td>
                <td>
                  v{p.defaultVersion}
                  {p.pinnedVersion ? ' (pinned)' : ''}
                </td>
                <td>v{p.latestVersion}</td>
                <td>
                  <Pill status={p.enabled ? 'Enabled' : 'Disabled'} />
                </td>
                <td title={when(p.updatedAt)}>{ago(p.updatedAt)}</td>
                <td class="muted">{p.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Lines of a and b as a unified list: ' ' same, '-' only in a, '+' only in b (LCS; definitions are small). */
export function lineDiff(a: string[], b: string[]): Array<[' ' | '-' | '+', string]> {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: Array<[' ' | '-' | '+', string]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push([' ', a[i]!]);
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push(['-', a[i++]!]);
    else out.push(['+', b[j++]!]);
  }
  while (i < n) out.push(['-', a[i++]!]);
  while (j < m) out.push(['+', b[j++]!]);
  return out;
}

const defText = (d: unknown) => JSON.stringify(d, null, 2).split('\n');

/** Folds runs of unchanged lines longer than 2 × `context` into one "… N unchanged lines" marker. */
export function foldDiff(
  diff: Array<[' ' | '-' | '+', string]>,
  context = 3,
): Array<[' ' | '-' | '+' | '…', string]> {
  const out: Array<[' ' | '-' | '+' | '…', string]> = [];
  let i = 0;
  while (i < diff.length) {
    if (diff[i]![0] !== ' ') {
      out.push(diff[i++]!);
      continue;
    }
    let j = i;
    while (j < diff.length && diff[j]![0] === ' ') j++;
    const head = i === 0 ? 0 : context;
    const tail = j === diff.length ? 0 : context;
    if (j - i > head + tail + 1) {
      out.push(...diff.slice(i, i + head));
      out.push(['…', `${j - i - head - tail} unchanged lines`]);
      out.push(...diff.slice(j - tail, j));
    } else out.push(...diff.slice(i, j));
    i = j;
  }
  return out;
}

export function PipelinePage({ name, query }: { name: string; query: URLSearchParams }) {
  const p = useApi<PipelineSummary>(`/pipelines/${enc(name)}`);
  const versions = useApi<{ items: Array<{ version: number; definitionHash: string; createdAt: string }> }>(
    `/pipelines/${enc(name)}/versions?limit=100`,
  );
  const vs = versions.data?.items ?? [];
  const a = Number(query.get('a') ?? vs[1]?.version ?? vs[0]?.version ?? 0);
  const b = Number(query.get('b') ?? vs[0]?.version ?? 0);
  const [defs, setDefs] = useState<Record<number, unknown>>({});
  const [error, setError] = useState<string>();
  useEffect(() => {
    for (const v of [a, b])
      if (v && !(v in defs))
        api<{ definition: unknown }>(`/pipelines/${enc(name)}/versions/${v}`)
          .then((d) => setDefs((prev) => ({ ...prev, [v]: d.definition })))
          .catch((e: Error) => setError(e.message));
  }, [a, b]);
  const set = (k: string, v: string) => {
    const q = new URLSearchParams(query);
    q.set(k, v);
    navigate(`#/pipelines/${enc(name)}?${q.toString()}`);
  };
  const start = async () => {
    try {
      const r = await api<{ runId: string }>(`/pipelines/${enc(name)}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      navigate(`#/runs/${r.runId}`);
    } catch (e) {
      alert((e as Error).message);
    }
  };
  if (!p.data) return p.error ? <ErrorBox error={p.error} /> : <Loading />;
  const diff =
    defs[a] !== undefined && defs[b] !== undefined ? lineDiff(defText(defs[a]), defText(defs[b])) : undefined;
  const changed = diff?.filter((d) => d[0] !== ' ').length ?? 0;
  return (
    <section>
      <div class="title-row">
        <h1>{name}</h1>
        <div class="actions">
          <button class="primary" onClick={() => void start()}>
            Run v{p.data.defaultVersion}
          </button>
          <button onClick={() => navigate(`#/runs?pipeline=${enc(name)}`)}>Runs</button>
        </div>
      </div>
      {p.data.description && <p class="muted">{p.data.description}</p>}
      <ErrorBox error={error ?? versions.error} />
      <div class="cols wide-right">
        <div>
          <h2>Versions</h2>
          <table class="list">
            <thead>
              <tr>
                <th>Version</th>
                <th>Definition hash</th>
                <th>Published</th>
                <th>Diff</th>
              </tr>
            </thead>
            <tbody>
              {vs.map((v) => (
                <tr>
                  <td>
                    v{v.version}
                    {v.version === p.data!.defaultVersion ? ' (default)' : ''}
                  </td>
                  <td class="mono muted">{v.definitionHash.slice(7, 19)}</td>
                  <td title={when(v.createdAt)}>{ago(v.createdAt)}</td>
                  <td>
                    <label>
                      <input
                        type="radio"
                        name="a"
                        checked={a === v.version}
                        onChange={() => set('a', String(v.version))}
                      />{' '}
                      A
                    </label>{' '}
                    <label>
                      <input
                        type="radio"
                        name="b"
                        checked={b === v.version}
                        onChange={() => set('b', String(v.version))}
                      />{' '}
                      B
                    </label>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h2>
            v{a} → v{b}{' '}
            <span class="muted small">
              {diff ? (changed ? `${changed} changed lines` : 'identical') : ''}
            </span>
          </h2>
          {diff ? (
            <pre class="code diff" data-test="diff">
              {(changed ? foldDiff(diff) : diff).map(([k, line]) => (
                <div class={k === '+' ? 'add' : k === '-' ? 'del' : k === '…' ? 'fold' : ''}>
                  {k === '…' ? `  … ${line}` : `${k} ${line}`}
                </div>
              ))}
            </pre>
          ) : (
            <Loading />
          )}
        </div>
      </div>
    </section>
  );
}
