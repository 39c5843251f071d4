/**
 * Line charts with uPlot (small, canvas-based, fast with thousands of points). One chart per metric;
 * several series overlay on a shared x axis (the logged `step`, or the run's position in a pipeline).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';

export const PALETTE = [
  '#4aa3ff',
  '#f0883e',
  '#3fb950',
  '#a371f7',
  '#f85149',
  '#d29922',
  '#39c5cf',
  '#db61a2',
];

export interface ChartSeries {
  label: string;
  points: Array<{ x: number; value: number }>;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function LineChart(props: {
  title: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
  xLabel?: string;
  /** x values are labels (run ids), not numbers. */
  xNames?: string[];
  /** x values are counts (trials): ticks only at whole numbers. */
  integerX?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const xs = [...new Set(props.series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
    const data: uPlot.AlignedData = [
      xs,
      ...props.series.map((s) => {
        const m = new Map(s.points.map((p) => [p.x, p.value]));
        return xs.map((x) => (m.has(x) ? m.get(x)! : null));
      }),
    ];
    const text = cssVar('--text');
    const grid = cssVar('--line');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const names = props.xNames;
    const plot = new uPlot(
      {
        title: props.title,
        width: props.width ?? Math.min(560, ref.current.clientWidth || 560),
        height: props.height ?? 220,
        scales: { x: { time: false } },
        axes: [
          {
            ...axis,
            label: props.xLabel,
            ...(props.integerX ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : {}),
            ...(names ? { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => names[t] ?? '') } : {}),
          },
          axis,
        ],
        series: [
          { label: props.xLabel ?? 'x' },
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: PALETTE[i % PALETTE.length],
            width: 2,
            spanGaps: true,
            points: { show: xs.length < 60, size: 5 },
          })),
        ],
        legend: { show: true },
      },
      data,
      ref.current,
    );
    return () => plot.destroy();
  }, [JSON.stringify(props.series), props.title, props.width]);
  return <div class="chart" ref={ref} data-chart={props.title} />;
}
