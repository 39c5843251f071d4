import { canonicalJson } from './cache-key';
import { seriesOfSteps } from './metrics-query';
import type { RunDoc } from './store';

/**
 * Runs side by side (GET /api/runs/compare, `sluice runs compare`, the dashboard's Compare page). Pure:
 * the handler reads the documents, this lines them up. Every row holds one cell per run, in the order the
 * runs were asked for, and says whether the cells differ, so a reader (or a script) looks only at what
 * changed.
 */

/** Runs one comparison may hold: enough for a sweep by hand, small enough to read. */
export const MAX_COMPARED_RUNS = 20;

export interface ComparedRun {
  runId: string;
  pipeline: string;
  version: number;
  definitionHash: string;
  status: string;
  createdAt: string;
  tags: Record<string, string>;
  trigger: string;
  /** From start to finish (or to now, for a run still going), in ms; absent before it starts. */
  durationMs?: number;
}

export interface Row<T> {
  name: string;
  values: T[];
  differs: boolean;
}

export interface StepCell {
  status: string;
  /** `run` or `reused`; absent when the step did not get that far. */
  decision?: 'run' | 'reused';
  reason?: string;
  cacheKey?: string;
  durationMs?: number;
  reusedFrom?: string;
}

export interface Comparison {
  runs: ComparedRun[];
  /** True when the runs are of more than one pipeline (the rows still line up by name). */
  mixedPipelines: boolean;
  parameters: Array<Row<unknown>>;
  /** Per step: the decision, the reason and the time, per run; `differs` compares the cache keys. */
  steps: Array<Row<StepCell | null>>;
  /** Per (step, metric): the last logged value per run (null where the run logged none). */
  metrics: Array<Row<number | null> & { step: string; metric: string }>;
}

const ms = (a?: string, b?: string, now = Date.now()): number | undefined =>
  a ? Math.max(0, (b ? Date.parse(b) : now) - Date.parse(a)) : undefined;

const differs = (values: unknown[]): boolean => new Set(values.map((v) => canonicalJson(v))).size > 1;

/** Names in first-seen order across the runs (the first run's order leads). */
function unionOrdered(lists: string[][]): string[] {
  const seen = new Set<string>();
  for (const l of lists) for (const n of l) seen.add(n);
  return [...seen];
}

export function compareRuns(docs: RunDoc[], now = Date.now()): Comparison {
  const runs: ComparedRun[] = docs.map((d) => ({
    runId: d.runId,
    pipeline: d.pipeline,
    version: d.version,
    definitionHash: d.definitionHash,
    status: d.status,
    createdAt: d.createdAt,
    tags: d.tags ?? {},
    trigger: d.trigger?.type ?? 'rest',
    ...(d.startedAt ? { durationMs: ms(d.startedAt, d.finishedAt, now) } : {}),
  }));
  const parameters = unionOrdered(docs.map((d) => Object.keys(d.parameters ?? {}))).map((name) => {
    const values = docs.map((d) => (name in (d.parameters ?? {}) ? d.parameters[name] : null));
    return { name, values, differs: differs(values) };
  });
  const steps = unionOrdered(docs.map((d) => Object.keys(d.steps))).map((name) => {
    const values: Array<StepCell | null> = docs.map((d) => {
      const s = d.steps[name];
      if (!s) return null;
      return {
        status: s.status,
        ...(s.cache ? { decision: s.cache.decision, reason: s.cache.reason, cacheKey: s.cache.key } : {}),
        ...(s.startedAt ? { durationMs: ms(s.startedAt, s.finishedAt, now) } : {}),
        ...(s.reusedFrom ? { reusedFrom: s.reusedFrom.runId } : {}),
      };
    });
    // Same cache key = same work; a step missing from a run, or not yet keyed, differs by its status.
    return {
      name,
      values,
      differs: differs(values.map((v) => (v ? (v.cacheKey ?? `status:${v.status}`) : null))),
    };
  });
  const perRun = docs.map((d) => seriesOfSteps(Object.values(d.steps)));
  const keys = unionOrdered(perRun.map((list) => list.map((s) => `${s.step}\0${s.name}`)));
  const metrics = keys.map((k) => {
    const [step, metric] = k.split('\0') as [string, string];
    const values = perRun.map((list) => list.find((s) => s.step === step && s.name === metric)?.last ?? null);
    return { name: `${step}.${metric}`, step, metric, values, differs: differs(values) };
  });
  return {
    runs,
    mixedPipelines: new Set(docs.map((d) => d.pipeline)).size > 1,
    parameters,
    steps,
    metrics,
  };
}
