/**
 * A DAG laid out by dagre (layered, left to right), drawn as SVG. Boxes are sized to their labels, so
 * names never overflow; very long names are cut with the full name in the tooltip. The layout is
 * computed once per graph shape (not per poll), which keeps 500-step runs responsive.
 */
import dagre from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import { STATUS_COLOR } from './ui';

export interface GraphNode {
  id: string;
  label: string;
  /** Second line (status, reason). */
  detail?: string;
  status?: string;
  /** Reused marker. */
  reused?: boolean;
  kind?: 'step' | 'data' | 'run';
}

export interface GraphEdge {
  from: string;
  to: string;
}

const CHAR_W = 7.4;
const MAX_LABEL = 32;

const cut = (s: string, n = MAX_LABEL) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

export function layoutGraph(nodes: GraphNode[], edges: GraphEdge[]) {
  const g = new dagre.graphlib.Graph();
  const big = nodes.length > 60;
  g.setGraph({ rankdir: 'LR', nodesep: big ? 10 : 18, ranksep: big ? 40 : 56, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    const chars = Math.max(cut(n.label).length, cut(n.detail ?? '', 36).length * 0.9);
    g.setNode(n.id, { width: Math.max(90, Math.ceil(chars * CHAR_W) + 28), height: n.detail ? 44 : 30 });
  }
  const ids = new Set(nodes.map((n) => n.id));
  for (const e of edges) if (ids.has(e.from) && ids.has(e.to)) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const graph = g.graph();
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    nodes: new Map(
      nodes.map((n) => [n.id, g.node(n.id) as { x: number; y: number; width: number; height: number }]),
    ),
    edges: g.edges().map((e) => ({
      from: e.v,
      to: e.w,
      points: (g.edge(e) as { points: Array<{ x: number; y: number }> }).points,
    })),
  };
}

export function Graph(props: {
  nodes: GraphNode[];
  edges: GraphEdge[];
  selected?: string;
  onSelect?: (id: string) => void;
  /** A key that changes only when the shape changes (so polling does not re-layout). */
  shapeKey: string;
}) {
  const layout = useMemo(() => layoutGraph(props.nodes, props.edges), [props.shapeKey]);
  const byId = new Map(props.nodes.map((n) => [n.id, n]));
  return (
    <div class="graph-wrap">
      <svg
        class="graph"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-label="pipeline graph"
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <polyline
            class="edge"
            marker-end="url(#arrow)"
            points={e.points.map((p) => `${p.x},${p.y}`).join(' ')}
          />
        ))}
        {[...layout.nodes.entries()].map(([id, box]) => {
          const n = byId.get(id);
          if (!n || !box) return null;
          const x = box.x - box.width / 2;
          const y = box.y - box.height / 2;
          const color = STATUS_COLOR[n.status ?? ''] ?? 'var(--line-strong)';
          return (
            <g
              class={`node ${props.selected === id ? 'selected' : ''} kind-${n.kind ?? 'step'}`}
              tabIndex={0}
              role="button"
              aria-label={`${n.label} ${n.status ?? ''}`}
              data-node={id}
              onClick={() => props.onSelect?.(id)}
              onKeyDown={(ev) => {
                if (ev.key === 'Enter' || ev.key === ' ') {
                  ev.preventDefault();
                  props.onSelect?.(id);
                }
              }}
            >
              <title>{[n.label, n.status, n.detail].filter(Boolean).join(' · ')}</title>
              <rect
                x={x}
                y={y}
                width={box.width}
                height={box.height}
                rx={n.kind === 'data' ? 14 : 6}
                style={{ stroke: color }}
              />
              <rect x={x} y={y} width={5} height={box.height} rx={2} style={{ fill: color }} />
              <text x={x + 13} y={y + (n.detail ? 17 : 19)} class="label">
                {cut(n.label)}
                {n.reused ? ' ↺' : ''}
              </text>
              {n.detail && (
                <text x={x + 13} y={y + 34} class="detail">
                  {cut(n.detail, 36)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
