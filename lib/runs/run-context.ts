import { getPipelineVersion } from '../pipelines/store';
import { parameterFieldUses, resolveNumericFields } from '../pipelines/numeric-fields';
import { parseDuration } from '../pipelines/formats';
import type { PipelineDefinition } from '../pipelines/schema';
import type { StepDefinition } from '../pipelines/steps-schema';
import { buildGraph, type PlanState, type StepGraph } from './plan';
import type { RunSettings } from './run-settings';
import { readRun, type RunDoc } from './store';

/** What the engine knows of a running run: its document, its definition and graph. */
export interface RunContext {
  doc: RunDoc;
  definition: PipelineDefinition;
  graph: StepGraph;
  /** Per step, the parameters its numeric fields take (resolved in `definition`; part of the key). */
  fieldParameters: Record<string, string[]>;
}

// A small per-process cache: definitions are immutable, and this process is the run's only writer.
const contexts = new Map<string, RunContext>();

export async function runContext(runId: string): Promise<RunContext> {
  const hit = contexts.get(runId);
  if (hit) return hit;
  const doc = await readRun(runId);
  if (!doc) throw new Error(`run ${runId} has no document`);
  const v = await getPipelineVersion(doc.pipeline, doc.version);
  // Numeric fields given as ${{parameters.X}} take this run's values (checked when the run started).
  const definition = resolveNumericFields(v.definition, doc.parameters).definition;
  const fieldParameters = Object.fromEntries(
    Object.entries(v.definition.steps).map(([n, st]) => [n, parameterFieldUses(st).map((u) => u.parameter)]),
  );
  const ctx = { doc, definition, graph: buildGraph(definition), fieldParameters };
  if (contexts.size > 200) contexts.delete(contexts.keys().next().value!);
  contexts.set(runId, ctx);
  return ctx;
}

/**
 * The plan each running run's last advance returned, by run: the next advance gets only what changed
 * since (its input stays small however large the run). A miss (another process, a restart, eviction)
 * costs one more call carrying the whole plan.
 */
const plans = new Map<string, { seq: number; state: PlanState }>();

export function rememberPlan(runId: string, seq: number, state: PlanState): void {
  plans.delete(runId);
  if (plans.size >= 500) plans.delete(plans.keys().next().value!);
  plans.set(runId, { seq, state });
}

/** The plan this process returned last time, taken out (the caller changes it in place, then remembers it). */
export function takePlan(runId: string): { seq: number; state: PlanState } | undefined {
  const p = plans.get(runId);
  plans.delete(runId);
  return p;
}

/** The run ended (or was aborted): its context and plan leave this process. */
export function forgetRun(runId: string): void {
  contexts.delete(runId);
  plans.delete(runId);
}

/** A step's wall-clock limit per attempt (per mini-batch or trial): its `timeout`, or the default. */
export function stepTimeoutMs(def: StepDefinition, settings: RunSettings): number {
  return (def.timeout ? parseDuration(def.timeout) : undefined) ?? settings.defaultStepTimeoutMs;
}
