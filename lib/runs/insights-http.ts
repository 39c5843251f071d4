import { jobQueue, jobsTable, listJobs } from '../compute/jobs';
import { parseShardProgress } from '../compute/shard';
import { loadComputeTargets } from '../compute/targets';
import { invalid, notFound, type FieldProblem } from '../errors/problem';
import { httpHandler, json } from '../http/handler';
import { nextLink, paging } from '../http/paging';
import { PIPELINE_NAME_RE, PIPELINE_NAME_RULE } from '../pipelines/formats';
import { getPipelineVersion } from '../pipelines/store';
import { closest } from '../pipelines/suggest';
import { resolveNumericFields } from '../pipelines/numeric-fields';
import { sweepTrials } from './sweep-plan';
import { compareRuns, MAX_COMPARED_RUNS } from './compare';
import { pipelineMetric, runMetrics, withReusedMetrics } from './metrics-query';
import { readRun, type RunDoc } from './store';

/**
 * Read-only views over runs for the dashboard, the CLI and scripts: metric series, one metric across a
 * pipeline's runs, runs side by side, a step's batches (trials), and the compute targets. Registered in
 * functions/run-insights.ts; documented in lib/api/routes/compare.ts.
 */

const RUN_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

async function mustReadRun(id: string): Promise<RunDoc> {
  const doc = RUN_ID_RE.test(id) ? await readRun(id) : undefined;
  if (!doc) throw notFound(`There is no run "${id}"; list runs with GET /api/runs.`);
  return doc;
}

/** GET /api/runs/{id}/metrics */
export const runMetricsHandler = httpHandler(async (req) => {
  const [doc] = await withReusedMetrics([await mustReadRun(req.params.id ?? '')]);
  return json(200, runMetrics(doc!));
});

/** GET /api/runs/compare?ids=a,b[,…] (also ?ids=a&ids=b) */
export const compareRunsHandler = httpHandler(async (req) => {
  const ids = req.query
    .getAll('ids')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  const unique = [...new Set(ids)];
  const problems: FieldProblem[] = [];
  if (unique.length < 2 || unique.length > MAX_COMPARED_RUNS)
    problems.push({
      pointer: '/query/ids',
      message: `ids lists 2 to ${MAX_COMPARED_RUNS} different run ids, comma-separated (got ${unique.length})`,
    });
  unique.forEach((id, i) => {
    if (!RUN_ID_RE.test(id))
      problems.push({ pointer: `/query/ids/${i}`, message: `"${id}" is not a run id` });
  });
  if (problems.length) throw invalid(problems);
  const docs = await Promise.all(unique.map((id) => readRun(id)));
  docs.forEach((d, i) => {
    if (!d) problems.push({ pointer: `/query/ids/${i}`, message: `there is no run "${unique[i]}"` });
  });
  if (problems.length) throw invalid(problems);
  return json(200, compareRuns(await withReusedMetrics(docs as RunDoc[])));
});

/** GET /api/pipelines/{name}/metrics?metric=&step=&limit=&continuationToken= */
export const pipelineMetricsHandler = httpHandler(async (req) => {
  const name = req.params.name ?? '';
  const problems: FieldProblem[] = [];
  if (!PIPELINE_NAME_RE.test(name))
    problems.push({ pointer: '/name', message: `a pipeline name is ${PIPELINE_NAME_RULE}` });
  const metric = req.query.get('metric') ?? '';
  if (!metric || metric.length > 256)
    problems.push({
      pointer: '/query/metric',
      message: 'metric is required: the name a step logs (1–256 characters)',
    });
  const step = req.query.get('step') ?? undefined;
  if (step !== undefined && (step.length === 0 || step.length > 128))
    problems.push({ pointer: '/query/step', message: 'step is a step name (1–128 characters)' });
  let page = { limit: 50 } as { limit?: number; continuationToken?: string };
  try {
    page = { limit: 50, ...paging(req, 100) };
  } catch (e) {
    const errors = (e as { errors?: FieldProblem[] }).errors ?? [];
    problems.push(...errors.map((p) => ({ ...p, pointer: '/query' + p.pointer })));
  }
  if (problems.length) throw invalid(problems);
  const result = await pipelineMetric({
    pipeline: name,
    metric,
    ...(step ? { step } : {}),
    limit: page.limit ?? 50,
    ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
  });
  const next = nextLink(req, result.continuationToken);
  return json(200, {
    pipeline: name,
    metric,
    ...(step ? { step } : {}),
    ...result,
    ...(next ? { next } : {}),
  });
});

type JobRow = Awaited<ReturnType<typeof listJobs>>[number];

/**
 * A parallelRun shard's row as one row per mini-batch it ran (the job's times; its state, or the
 * mini-batch's own failure from the job's report), each naming its shard, so the list stays in
 * mini-batch units. The shard's metrics stay with its first mini-batch.
 */
function shardItems(r: JobRow): Array<JobRow & { shard: number }> {
  const { first, count } = r.spec.shard!;
  const report = r.result?.miniBatches;
  // A running shard's heartbeat says how far it got: its mini-batches run in order.
  // Before its first mini-batch ends, the heartbeat carries no progress: none ended.
  const live =
    r.state === 'running' && !r.result
      ? (parseShardProgress(r.progress) ?? { succeeded: 0, failed: 0, failedBatches: [] })
      : undefined;
  const liveState = (k: number): JobRow['state'] | undefined => {
    if (!live) return undefined;
    const ended = live.succeeded + live.failed;
    if (k < ended) return live.failedBatches.includes(first + k) ? 'failed' : 'succeeded';
    return k === ended ? 'running' : 'queued';
  };
  const failed = new Set(report?.failed ?? []);
  return Array.from({ length: count }, (_, k) => {
    const batch = first + k;
    const errors = report?.errors.filter((e) => e.batch === batch) ?? [];
    const own = failed.has(batch)
      ? { state: 'failed' as const, failure: errors.at(-1) ?? { code: 'exit-code', message: 'failed' } }
      : undefined;
    const result = r.result && {
      ...r.result,
      metrics: k === 0 ? r.result.metrics : [],
      ...(own ? { failure: { code: own.failure.code, message: own.failure.message } } : {}),
    };
    const now = liveState(k);
    return {
      ...r,
      spec: { ...r.spec, batch },
      ...(own ? { state: own.state } : now ? { state: now } : {}),
      ...(result ? { result: result as JobRow['result'] } : {}),
      shard: r.spec.batch!,
    };
  });
}

/** GET /api/runs/{id}/steps/{step}/batches: a parallelRun's mini-batches or an automl step's trials. */
export const stepBatchesHandler = httpHandler(async (req) => {
  const doc = await mustReadRun(req.params.id ?? '');
  const stepName = req.params.step ?? '';
  const s = doc.steps[stepName];
  if (!s) {
    const c = closest(stepName, Object.keys(doc.steps));
    throw notFound(`Run ${doc.runId} has no step "${stepName}"${c ? `; did you mean "${c}"?` : ''}`);
  }
  // A Reused step's batches ran in the run it reused.
  const source = s.status === 'Reused' && s.reusedFrom ? s.reusedFrom : { runId: doc.runId, step: s.name };
  const sourceDoc = source.runId === doc.runId ? doc : await readRun(source.runId);
  let trialParams: Array<Record<string, unknown>> | undefined;
  let goal: { metric: string; goal: string } | undefined;
  if (sourceDoc) {
    const version = await getPipelineVersion(sourceDoc.pipeline, sourceDoc.version).catch(() => undefined);
    // Numeric fields may be parameters: the trials are those of the run's values.
    const def =
      version && resolveNumericFields(version.definition, sourceDoc.parameters).definition.steps[source.step];
    if (def && def.kind === 'sweep') {
      trialParams = sweepTrials(def.searchSpace, def.sampler, def.maxTotalTrials, def.seed);
      goal = { metric: def.metric, goal: def.goal ?? 'maximize' };
    }
  }
  const rows = (await listJobs(source.runId)).filter(
    (r) => r.stepName === source.step && r.spec.batch !== undefined,
  );
  const items = rows
    .flatMap((r) => (r.spec.shard ? shardItems(r) : [r]))
    .map((r) => ({
      batch: r.spec.batch!,
      attempt: r.attempt,
      state: r.state,
      createdAt: r.createdAt,
      ...(r.startedAt || r.claimedAt ? { startedAt: r.startedAt ?? r.claimedAt } : {}),
      ...(r.finishedAt || r.result?.finishedAt ? { finishedAt: r.finishedAt ?? r.result?.finishedAt } : {}),
      ...(r.result?.failure ? { failure: r.result.failure } : {}),
      metrics: r.result?.metrics ?? [],
      ...('shard' in r ? { shard: r.shard } : {}),
      ...(trialParams?.[r.spec.batch!] ? { parameters: trialParams[r.spec.batch!] } : {}),
    }))
    .sort((a, b) => a.batch - b.batch || a.attempt - b.attempt);
  return json(200, {
    runId: doc.runId,
    step: s.name,
    source,
    kind: trialParams ? 'automl' : 'parallelRun',
    ...(goal ? goal : {}),
    ...(s.bestTrial ? { bestTrial: s.bestTrial } : {}),
    items,
  });
});

/** GET /api/compute/targets: the targets pipelines may name, their pools and how many jobs wait. */
export const computeTargetsHandler = httpHandler(async () => {
  const targets = Object.values(loadComputeTargets());
  const items = await Promise.all(
    targets.map(async (t) => {
      const props = await (await jobQueue(t.pool)).getProperties().catch(() => undefined);
      return { ...t, queuedJobs: props?.approximateMessagesCount ?? 0 };
    }),
  );
  return json(200, { items });
});

/** Running jobs the agents view scans at most (a busier store shows the first ones and says so). */
const MAX_RUNNING_SCANNED = 2000;

/**
 * GET /api/compute/agents: the agents working now, from the running jobs' rows (claimedBy, heartbeat).
 * Agents register nowhere else: an idle agent polls its queue and leaves no trace, so it is not listed.
 */
export const computeAgentsHandler = httpHandler(async () => {
  const table = await jobsTable();
  const agents = new Map<
    string,
    {
      agentId: string;
      pool: string;
      runningJobs: number;
      lastHeartbeatAt?: string;
      jobs: Array<{ runId: string; step: string }>;
    }
  >();
  let scanned = 0;
  for await (const e of table.listEntities<Record<string, unknown>>({
    queryOptions: {
      filter: "state eq 'running'",
      select: ['PartitionKey', 'pool', 'claimedBy', 'heartbeatAt', 'stepName'],
    },
  })) {
    if (++scanned > MAX_RUNNING_SCANNED) break;
    const id = typeof e.claimedBy === 'string' ? e.claimedBy : 'unknown';
    const a = agents.get(id) ?? { agentId: id, pool: String(e.pool ?? ''), runningJobs: 0, jobs: [] };
    a.runningJobs++;
    const hb = typeof e.heartbeatAt === 'string' ? e.heartbeatAt : undefined;
    if (hb && (!a.lastHeartbeatAt || hb > a.lastHeartbeatAt)) a.lastHeartbeatAt = hb;
    if (a.jobs.length < 10)
      a.jobs.push({ runId: String(e.partitionKey ?? ''), step: String(e.stepName ?? '') });
    agents.set(id, a);
  }
  return json(200, {
    items: [...agents.values()],
    ...(scanned > MAX_RUNNING_SCANNED ? { truncated: true } : {}),
  });
});
