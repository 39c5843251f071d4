/** Datasets: the list, one dataset's versions, and the lineage graph of the runs around a version. */
import { useMemo } from 'preact/hooks';
import { enc, useApi } from './api';
import { Graph, type GraphEdge, type GraphNode } from './graph';
import { navigate, useKeyList } from './router';
import { ago, bytes, Empty, ErrorBox, Loading, short, when } from './ui';

interface DatasetVersion {
  name: string;
  version: number;
  hash: string;
  type: 'file' | 'directory';
  size: number;
  files?: number;
  source?: unknown;
  createdAt: string;
}

export function DatasetsPage() {
  const list = useApi<{
    items: Array<{ name: string; latest?: DatasetVersion; versions?: number; updatedAt?: string }>;
  }>('/datasets?limit=100');
  const items = list.data?.items ?? [];
  const focus = useKeyList(items.length, (i) => navigate(`#/datasets/${enc(items[i]!.name)}`));
  if (!list.data) return list.error ? <ErrorBox error={list.error} /> : <Loading />;
  return (
    <section>
      <h1>Datasets</h1>
      {!items.length ? (
        <Empty>
          No datasets: <code>npx sluice datasets upload NAME FILE</code>, or a step output with{' '}
          <code>dataset:</code>.
        </Empty>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Versions</th>
              <th>Latest</th>
              <th>Size</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d, i) => (
              <tr
                class={`click ${focus === i ? 'focused' : ''}`}
                onClick={() => navigate(`#/datasets/${enc(d.name)}`)}
              >
                <td>
                  <a href={`#/datasets/${enc(d.name)}`}>{d.name}</a>
                </td>
                <td>{d.versions ?? ''}</td>
                <td class="mono muted">
                  {d.latest ? `v${d.latest.version} ${d.latest.hash.slice(7, 19)}` : ''}
                </td>
                <td>{bytes(d.latest?.size)}</td>
                <td title={when(d.updatedAt)}>{ago(d.updatedAt ?? d.latest?.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

interface Lineage {
  hash: string;
  producedBy: Array<{ runId: string; step: string; output: string; at: string }>;
  consumedBy: Array<{ runId: string; step: string; input: string; at: string }>;
}

export function DatasetPage({ name, query }: { name: string; query: URLSearchParams }) {
  const d = useApi<{ latest: DatasetVersion; items: DatasetVersion[] }>(`/datasets/${enc(name)}?limit=100`);
  const versions = d.data?.items ?? [];
  const chosen = versions.find((v) => String(v.version) === query.get('version')) ?? versions[0];
  const lineage = useApi<Lineage>(chosen ? `/artifacts/${enc(chosen.hash)}/lineage` : null);
  const graph = useMemo(() => {
    const nodes: GraphNode[] = [];
    const edges: GraphEdge[] = [];
    const l = lineage.data;
    if (!l || !chosen) return { nodes, edges, key: '' };
    const data = `data:${chosen.hash}`;
    nodes.push({
      id: data,
      label: `${name} v${chosen.version}`,
      detail: chosen.hash.slice(7, 19),
      kind: 'data',
      status: 'Reused',
    });
    for (const p of l.producedBy.slice(0, 100)) {
      const id = `run:${p.runId}:${p.step}`;
      nodes.push({
        id,
        label: `${p.step} (${p.output})`,
        detail: short(p.runId, 14),
        status: 'Completed',
        kind: 'run',
      });
      edges.push({ from: id, to: data });
    }
    for (const c of l.consumedBy.slice(0, 200)) {
      const id = `run:${c.runId}:${c.step}`;
      if (!nodes.some((n) => n.id === id))
        nodes.push({
          id,
          label: `${c.step} (${c.input})`,
          detail: short(c.runId, 14),
          status: 'Running',
          kind: 'run',
        });
      edges.push({ from: data, to: id });
    }
    return { nodes, edges, key: `${chosen.hash}:${l.producedBy.length}:${l.consumedBy.length}` };
  }, [lineage.data, chosen?.hash]);
  if (!d.data) return d.error ? <ErrorBox error={d.error} /> : <Loading />;
  return (
    <section>
      <h1>{name}</h1>
      <div class="cols wide-right">
        <div>
          <h2>Versions</h2>
          <table class="list">
            <thead>
              <tr>
                <th>Version</th>
                <th>Type</th>
                <th>Size</th>
                <th>Hash</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr
                  class={`click ${v.version === chosen?.version ? 'focused' : ''}`}
                  onClick={() => navigate(`#/datasets/${enc(name)}?version=${v.version}`)}
                >
                  <td>v{v.version}</td>
                  <td>
                    {v.type}
                    {v.files && v.type === 'directory' ? ` (${v.files} files)` : ''}
                  </td>
                  <td>{bytes(v.size)}</td>
                  <td class="mono muted" title={v.hash}>
                    {v.hash.slice(7, 19)}
                  </td>
                  <td title={when(v.createdAt)}>{ago(v.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h2>Lineage of v{chosen?.version}</h2>
          <p class="muted small">
            Runs that produced this content (left) and runs that read it (right). Click one to open it.
          </p>
          {lineage.error && <ErrorBox error={lineage.error} />}
          {!lineage.data ? (
            <Loading />
          ) : graph.nodes.length > 1 ? (
            <Graph
              nodes={graph.nodes}
              edges={graph.edges}
              shapeKey={graph.key}
              onSelect={(id) => {
                const [, runId, step] = id.split(':');
                if (id.startsWith('run:')) navigate(`#/runs/${runId}?step=${enc(step ?? '')}`);
              }}
            />
          ) : (
            <Empty>No run produced or read this version yet (it was uploaded).</Empty>
          )}
        </div>
      </div>
    </section>
  );
}
