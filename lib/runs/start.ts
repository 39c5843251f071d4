import { createHash, randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import type { DurableClient } from 'durable-functions/types/durableClient';
import { invalid, pointer, type FieldProblem } from '../errors/problem';
import { listComputeTargetNames, stepResourceProblems } from '../compute/targets-store';
import { computeTargetProblems } from '../pipelines/validate';
import { getClock } from '../host/clock';
import { parseBinding, stepInputBindings } from '../pipelines/graph';
import { PIPELINE_NAME_RE, PIPELINE_NAME_RULE } from '../pipelines/formats';
import type { PipelineDefinition } from '../pipelines/schema';
import { getPipelineVersion } from '../pipelines/store';
import { resolveNumericFields } from '../pipelines/numeric-fields';
import type { StartRunRequest, StartRunResult, TriggerInfo } from './contract';
import { durableClient } from './durable-client';
import type { OrchestrationInput } from './activity-contract';
import { resolveInput, type ResolvedInput } from './inputs';
import { RUN_ORCHESTRATION } from './activity-contract';
import { resolveInputRefs, resolveParameters } from './parameters';
import { buildGraph } from './plan';
import { createRun, readRun, type RunDoc } from './store';

export interface StartRunOptions {
  /** The calling function's context (its `durableClient` binding is used when it has one). */
  context?: InvocationContext;
  client?: DurableClient;
  /** Internal: the run this one reruns. */
  rerunOf?: string;
  /** Run draft N (lib/pipelines/drafts.ts) instead of a published version; the run records version -N. */
  draft?: number;
}

/**
 * Starts a pipeline run: checks the request against the pipeline version's definition (every problem at
 * once, with pointers), resolves inputs to content hashes, writes the run document and starts the run
 * orchestration (instance id = run id). With an idempotency key the run id is derived from it, so a
 * repeated start finds the existing run (`created: false`) instead of starting a second one.
 */
export async function startRun(
  req: StartRunRequest,
  trigger: TriggerInfo,
  opts: StartRunOptions = {},
): Promise<StartRunResult> {
  const problems: FieldProblem[] = [];
  if (typeof req.pipeline !== 'string' || !PIPELINE_NAME_RE.test(req.pipeline))
    throw invalid([{ pointer: '/pipeline', message: `a pipeline name is ${PIPELINE_NAME_RULE}` }]);
  if (req.version !== undefined && (!Number.isInteger(req.version) || req.version < 1))
    throw invalid([
      {
        pointer: '/version',
        message: 'version must be a positive integer (or omitted for the default version)',
      },
    ]);
  for (const f of ['forceRerun', 'continueOnStepFailure'] as const)
    if (req[f] !== undefined && typeof req[f] !== 'boolean')
      problems.push({ pointer: `/${f}`, message: `${f} must be true or false` });
  if (req.tags !== undefined) {
    if (typeof req.tags !== 'object' || req.tags === null || Array.isArray(req.tags))
      problems.push({ pointer: '/tags', message: 'tags must be an object of string → string' });
    else
      for (const [k, v] of Object.entries(req.tags))
        if (typeof v !== 'string' || k.length > 128 || v.length > 1024)
          problems.push({
            pointer: pointer(['tags', k]),
            message: 'a tag value is a string (keys ≤ 128, values ≤ 1024 characters)',
          });
  }
  if (
    req.idempotencyKey !== undefined &&
    (typeof req.idempotencyKey !== 'string' ||
      req.idempotencyKey.length === 0 ||
      req.idempotencyKey.length > 256)
  )
    problems.push({
      pointer: '/idempotencyKey',
      message: 'an idempotency key is a string of 1 to 256 characters',
    });
  if (problems.length) throw invalid(problems);

  const idemKey = req.idempotencyKey ?? ('idempotencyKey' in trigger ? trigger.idempotencyKey : undefined);
  const runId = idemKey
    ? 'r-' + createHash('sha256').update(`${req.pipeline}\0${idemKey}`).digest('hex').slice(0, 32)
    : 'r-' + randomUUID().replace(/-/g, '');
  if (idemKey) {
    const existing = await readRun(runId);
    if (existing) {
      await ensureOrchestration(existing, opts);
      return { runId, status: existing.status, created: false };
    }
  }

  const pv = opts.draft
    ? await getPipelineVersion(req.pipeline, -opts.draft)
    : await getPipelineVersion(req.pipeline, req.version, { requireEnabled: true });
  const def = pv.definition;
  const parameters = resolveParameters(def, req.parameters, problems);
  // Numeric step fields given as ${{parameters.X}}: typed and range-checked with this run's values.
  if (!problems.length) problems.push(...resolveNumericFields(def, parameters).problems);
  const inputRefs = resolveInputRefs(def, req.inputs, problems);
  // A target removed since publish: say so now, not when the step is dispatched.
  for (const p of [
    ...computeTargetProblems(def, await listComputeTargetNames()),
    ...(await stepResourceProblems(def.steps, def.settings?.defaultCompute)),
  ])
    problems.push({ ...p, message: `${req.pipeline} version ${pv.version}: ${p.message}` });
  if (problems.length) throw invalid(problems);

  // Resolve every pipeline input and every step-level dataset binding to content, now.
  const resolvedInputs: Record<string, ResolvedInput> = {};
  await Promise.all(
    Object.entries(inputRefs).map(async ([name, ref]) => {
      const r = await resolveInput(ref, pointer(['inputs', name]), problems);
      if (r) resolvedInputs[name] = r;
    }),
  );
  const stepRefs = new Set<string>();
  for (const step of Object.values(def.steps))
    for (const value of Object.values(stepInputBindings(step)))
      if (parseBinding(value).kind === 'dataset') stepRefs.add(value.trim());
  await Promise.all(
    [...stepRefs].map(async (ref) => {
      const r = await resolveInput(ref, '', problems);
      if (r) resolvedInputs[`ref:${ref}`] = r;
    }),
  );
  if (problems.length) throw invalid(problems, problems.length === 1 ? problems[0]!.message : undefined);

  const graph = buildGraph(def);
  const settings = def.settings ?? {
    maxConcurrency: 8,
    continueOnStepFailure: false,
    defaultCompute: 'local',
  };
  const doc: RunDoc = {
    id: runId,
    runId,
    type: 'run',
    pipeline: pv.name,
    version: pv.version,
    definitionHash: pv.definitionHash,
    status: 'Queued',
    parameters,
    inputs: inputRefs,
    resolvedInputs,
    tags: req.tags ?? {},
    trigger,
    forceRerun: req.forceRerun ?? false,
    continueOnStepFailure: req.continueOnStepFailure ?? settings.continueOnStepFailure ?? false,
    maxConcurrency: settings.maxConcurrency ?? 8,
    ...(opts.rerunOf ? { rerunOf: opts.rerunOf } : {}),
    createdAt: new Date(getClock().now()).toISOString(),
    stepCounts: { NotStarted: graph.order.length },
    steps: Object.fromEntries(
      graph.order.map((n) => [
        n,
        { name: n, status: 'NotStarted' as const, attempts: 0, dependsOn: graph.deps[n]! },
      ]),
    ),
  };
  const created = await createRun(doc);
  const stored = created ? doc : ((await readRun(runId)) ?? doc);
  await ensureOrchestration(stored, opts, !created);
  return { runId, status: stored.status, created };
}

/** What the orchestration starts with: the graph and the policies it decides by (no I/O needed to plan). */
export function orchestrationInput(doc: RunDoc, given: PipelineDefinition): OrchestrationInput {
  const def = resolveNumericFields(given, doc.parameters).definition;
  const graph = buildGraph(def);
  const retries: Record<string, number> = {};
  for (const [n, s] of Object.entries(def.steps)) if (s.retries) retries[n] = s.retries;
  return {
    runId: doc.runId,
    graph,
    maxConcurrency: doc.maxConcurrency,
    continueOnStepFailure: doc.continueOnStepFailure,
    retries,
  };
}

/**
 * The creator of the run document starts its orchestration. A duplicate start only repairs a run whose
 * creator crashed between the two (no orchestration a while after the document was written); starting
 * it sooner could race the creator's own start.
 */
const ORPHAN_AFTER_MS = 30_000;

async function ensureOrchestration(doc: RunDoc, opts: StartRunOptions, check = true): Promise<void> {
  const client = opts.client ?? durableClient(opts.context);
  if (check) {
    if (getClock().now() - Date.parse(doc.createdAt) < ORPHAN_AFTER_MS) return;
    const status = await client.getStatus(doc.runId).catch(() => undefined);
    if (status && status.runtimeStatus) return;
  }
  const pv = await getPipelineVersion(doc.pipeline, doc.version);
  try {
    await client.startNew(RUN_ORCHESTRATION, {
      instanceId: doc.runId,
      input: orchestrationInput(doc, pv.definition),
    });
  } catch (e) {
    // Another caller started it between our check and our start: that is the goal.
    if (!/already exists|409|conflict/i.test((e as Error).message)) throw e;
  }
}
