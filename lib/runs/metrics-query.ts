import { queryPage, type Page } from '../azure/cosmos-page';
import type { RunStatus } from './plan';
import { readRun, readStepRecord, runsContainer, type RunDoc, type StepRecord } from './store';

/**
 * Metrics as series: of one run (every step, every metric name), and of one metric across the runs of a
 * pipeline. Steps log `{"name","value","step"?}` lines; a series is one (step, name) pair in logged order.
 * The runs store keeps them on the run document (capped per step), so both answers are queries, never a
 * scan of logs.
 */

export interface MetricPoint {
  /** The `step` the script logged (an epoch, an iteration), or the point's index when it logged none. */
  x: number;
  value: number;
  time?: string;
}

export interface MetricSeries {
  step: string;
  name: string;
  points: MetricPoint[];
  /** The last logged value: what a leaderboard or a comparison shows. */
  last: number;
  min: number;
  max: number;
}

/** Every series of a set of steps, in step order then first-logged order of names. */
export function seriesOfSteps(steps: Array<Pick<StepRecord, 'name' | 'metrics'>>): MetricSeries[] {
  const out: MetricSeries[] = [];
  for (const s of steps) {
    const byName = new Map<string, MetricPoint[]>();
    for (const m of s.metrics ?? []) {
      if (typeof m.value !== 'number' || !Number.isFinite(m.value)) continue;
      const pts = byName.get(m.name) ?? [];
      pts.push({ x: m.step ?? pts.length, value: m.value, ...(m.time ? { time: m.time } : {}) });
      byName.set(m.name, pts);
    }
    for (const [name, points] of byName) {
      const values = points.map((p) => p.value);
      out.push({
        step: s.name,
        name,
        points,
        last: values[values.length - 1]!,
        min: Math.min(...values),
        max: Math.max(...values),
      });
    }
  }
  return out;
}

type StepsOnly = Pick<StepRecord, 'name' | 'metrics' | 'status' | 'reusedFrom'>;

/**
 * A Reused step computed nothing in its run, so it logged no metrics there; the execution it reused did.
 * Fills them in from that run (one point read per source run), so a reused run still shows its model's
 * numbers in comparisons and across a pipeline. Mutates and returns `docs`.
 */
export async function withReusedMetrics<T extends { steps: Record<string, StepsOnly> }>(
  docs: T[],
): Promise<T[]> {
  const sources = new Map<string, Promise<RunDoc | undefined>>();
  for (const d of docs)
    for (const s of Object.values(d.steps ?? {})) {
      if (s.status !== 'Reused' || !s.reusedFrom || s.metrics?.length) continue;
      const from = s.reusedFrom;
      if (!sources.has(from.runId))
        sources.set(
          from.runId,
          readRun(from.runId).catch(() => undefined),
        );
      const m = (await sources.get(from.runId)!)?.steps[from.step]?.metrics;
      if (m?.length) s.metrics = m;
    }
  return docs;
}

/** The metric series of one run (GET /api/runs/{id}/metrics). */
export function runMetrics(doc: RunDoc): { runId: string; pipeline: string; series: MetricSeries[] } {
  return { runId: doc.runId, pipeline: doc.pipeline, series: seriesOfSteps(Object.values(doc.steps)) };
}

export interface PipelineMetricItem {
  runId: string;
  version: number;
  status: RunStatus;
  createdAt: string;
  parameters: Record<string, unknown>;
  /** The metric in each step of the run that logged it (one entry when `step` was given). */
  values: Array<{ step: string; last: number; min: number; max: number; count: number }>;
}

interface Row {
  runId: string;
  version: number;
  status: RunStatus;
  createdAt: string;
  parameters: Record<string, unknown>;
  steps: Record<string, StepsOnly>;
  stepPages?: number;
}

/**
 * One metric across the runs of a pipeline, newest run first, paged with continuation tokens (never
 * OFFSET/LIMIT). A page holds up to `limit` runs; runs that did not log the metric are on it with empty
 * `values`, so a page never reads more than `limit` documents. With `step`, only that step's record is
 * projected; without, Cosmos SQL cannot project one property of every entry of an object map, so every
 * step record is read and reduced here (name a step for pipelines with many steps).
 */
export async function pipelineMetric(opts: {
  pipeline: string;
  metric: string;
  step?: string;
  limit: number;
  continuationToken?: string;
}): Promise<Page<PipelineMetricItem>> {
  const c = await runsContainer();
  // With a step, only that step's record is read (c.steps[@step]); without, every step's.
  const stepsField = opts.step === undefined ? 'c.steps' : 'c.steps[@step] AS one';
  const page = await queryPage<Row & { one?: StepsOnly }>(
    c,
    {
      query:
        `SELECT c.runId, c.version, c.status, c.createdAt, c.parameters, c.stepPages, ${stepsField} FROM c ` +
        "WHERE c.type = 'run' AND c.pipeline = @pipeline ORDER BY c.createdAt DESC",
      parameters: [
        { name: '@pipeline', value: opts.pipeline },
        ...(opts.step === undefined ? [] : [{ name: '@step', value: opts.step }]),
      ],
    },
    { limit: opts.limit, ...(opts.continuationToken ? { continuationToken: opts.continuationToken } : {}) },
  );
  for (const r of page.items) if (opts.step !== undefined) r.steps = r.one ? { [opts.step]: r.one } : {};
  // Runs whose steps live in step pages: the one page holding the step, or every page.
  await Promise.all(
    page.items
      .filter((r) => r.stepPages)
      .map(async (r) => {
        if (opts.step === undefined) r.steps = (await readRun(r.runId))?.steps ?? {};
        else {
          const one = await readStepRecord(r.runId, opts.step);
          r.steps = one ? { [opts.step]: one } : {};
        }
      }),
  );
  await withReusedMetrics(page.items);
  return {
    ...page,
    items: page.items.map((r) => metricItem(r, opts.metric, opts.step)),
  };
}

/** One run's row of the metric (pure). */
export function metricItem(r: Row, metric: string, step?: string): PipelineMetricItem {
  const steps = Object.values(r.steps ?? {}).filter((s) => step === undefined || s.name === step);
  const values = seriesOfSteps(
    steps.map((s) => ({ name: s.name, metrics: (s.metrics ?? []).filter((m) => m.name === metric) })),
  ).map((s) => ({ step: s.step, last: s.last, min: s.min, max: s.max, count: s.points.length }));
  return {
    runId: r.runId,
    version: r.version,
    status: r.status,
    createdAt: r.createdAt,
    parameters: r.parameters ?? {},
    values,
  };
}
