import type { HttpRequest } from '@azure/functions';
import { invalid, notFound, pointer } from '../errors/problem';
import { httpHandler, json, readJson } from '../http/handler';
import { closest } from '../pipelines/suggest';
import { PIPELINE_NAME_RE, PIPELINE_NAME_RULE } from '../pipelines/formats';
import type { StartRunRequest, TriggerInfo } from './contract';
import { cancelRun } from './cancel';
import { deleteRun } from './delete';
import { overlayLiveState } from './live-state';
import { startRun } from './start';
import { listRuns, readRun, readRunHead, runView, type RunDoc } from './store';

/** HTTP handlers for runs; registered in functions/runs.ts. */

const START_FIELDS = ['version', 'parameters', 'inputs', 'tags', 'forceRerun', 'continueOnStepFailure'];
const RUN_STATUSES = ['Queued', 'Running', 'Completed', 'Failed', 'Canceled'];

export function runIdOf(req: HttpRequest): string {
  const id = req.params.id ?? '';
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw notFound(`There is no run "${id}".`);
  return id;
}

export async function mustReadRun(id: string): Promise<RunDoc> {
  const doc = await readRun(id);
  if (!doc) throw notFound(`There is no run "${id}"; list runs with GET /api/runs.`);
  return doc;
}

function statusUrl(req: HttpRequest, runId: string): string {
  return `${new URL(req.url).origin}/api/runs/${runId}`;
}

/** POST /api/pipelines/{name}/runs and /api/pipelines/{name}/versions/{version}/runs */
export const startRunHandler = httpHandler(async (req, ctx) => {
  const name = req.params.name ?? '';
  if (!PIPELINE_NAME_RE.test(name))
    throw invalid([
      {
        pointer: '/name',
        message: `"${name}" is not a pipeline name: a pipeline name is ${PIPELINE_NAME_RULE}`,
      },
    ]);
  const body = (await readJson(req, { optional: true })) ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid([
      { pointer: '', message: `the body must be a JSON object with any of ${START_FIELDS.join(', ')}` },
    ]);
  const b = body as Record<string, unknown>;
  const problems = Object.keys(b)
    .filter((k) => !START_FIELDS.includes(k))
    .map((k) => {
      const c = closest(k, START_FIELDS);
      return {
        pointer: pointer([k]),
        message: `unknown field "${k}"${c ? `; did you mean "${c}"?` : ''} (allowed: ${START_FIELDS.join(', ')})`,
      };
    });
  let version = b.version as number | undefined;
  if (req.params.version !== undefined) {
    const v = Number(req.params.version);
    if (!/^[1-9][0-9]*$/.test(req.params.version))
      problems.push({ pointer: '/version', message: `"${req.params.version}" is not a version number` });
    else if (version !== undefined && version !== v)
      problems.push({
        pointer: '/version',
        message: `the body asks for version ${String(version)} but the URL names version ${v}`,
      });
    version = v;
  }
  if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version) || version < 1))
    problems.push({ pointer: '/version', message: 'version must be a positive integer' });
  if (problems.length) throw invalid(problems);
  const key = req.headers.get('idempotency-key') ?? undefined;
  if (key !== undefined && (key.length === 0 || key.length > 256))
    throw invalid([
      { pointer: '/headers/Idempotency-Key', message: 'an Idempotency-Key is 1 to 256 characters' },
    ]);
  const request: StartRunRequest = {
    pipeline: name,
    ...(version !== undefined ? { version } : {}),
    ...(b.parameters !== undefined ? { parameters: b.parameters as Record<string, unknown> } : {}),
    ...(b.inputs !== undefined ? { inputs: b.inputs as Record<string, string> } : {}),
    ...(b.tags !== undefined ? { tags: b.tags as Record<string, string> } : {}),
    ...(b.forceRerun !== undefined ? { forceRerun: b.forceRerun as boolean } : {}),
    ...(b.continueOnStepFailure !== undefined
      ? { continueOnStepFailure: b.continueOnStepFailure as boolean }
      : {}),
    ...(key ? { idempotencyKey: key } : {}),
  };
  const trigger: TriggerInfo = { type: 'rest', ...(key ? { idempotencyKey: key } : {}) };
  const r = await startRun(request, trigger, { context: ctx });
  const url = statusUrl(req, r.runId);
  return json(
    r.created ? 202 : 200,
    { runId: r.runId, status: r.status, statusUrl: url, created: r.created },
    { location: url },
  );
});

/**
 * GET /api/runs/{id}[?steps=all|none]. `none` answers from the run's head alone (status, times, step
 * counts by status): one read whatever the run's size, for whoever polls a run until it ends.
 */
export const getRunHandler = httpHandler(async (req) => {
  const id = runIdOf(req);
  const steps = req.query.get('steps') ?? 'all';
  if (steps !== 'all' && steps !== 'none')
    throw invalid([{ pointer: '/query/steps', message: 'steps is `all` (the default) or `none`' }]);
  if (steps === 'none') {
    const head = await readRunHead(id);
    if (!head) throw notFound(`There is no run "${id}"; list runs with GET /api/runs.`);
    const { steps: _steps, ...view } = runView(head);
    return json(200, view);
  }
  const doc = await mustReadRun(id);
  await overlayLiveState(doc);
  return json(200, runView(doc));
});

/** GET /api/runs?pipeline=&status=&limit=&continuationToken= */
export const listRunsHandler = httpHandler(async (req) => {
  const q = req.query;
  const problems = [];
  const pipeline = q.get('pipeline') ?? undefined;
  const status = q.get('status') ?? undefined;
  if (pipeline !== undefined && !PIPELINE_NAME_RE.test(pipeline))
    problems.push({ pointer: '/query/pipeline', message: `a pipeline name is ${PIPELINE_NAME_RULE}` });
  if (status !== undefined && !RUN_STATUSES.includes(status))
    problems.push({ pointer: '/query/status', message: `status is one of ${RUN_STATUSES.join(', ')}` });
  const limitText = q.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 200))
    problems.push({ pointer: '/query/limit', message: 'limit is an integer from 1 to 200' });
  if (problems.length) throw invalid(problems);
  const token = q.get('continuationToken') ?? undefined;
  try {
    const page = await listRuns({ pipeline, status, limit, continuationToken: token });
    return json(200, page);
  } catch (e) {
    if (token && /continuation|token|invalid/i.test((e as Error).message))
      throw invalid([
        {
          pointer: '/query/continuationToken',
          message: 'the continuation token is not valid; start from the first page',
        },
      ]);
    throw e;
  }
});

/** DELETE /api/runs/{id}: a finished run, its logs, job rows, history, cache entries and lineage. */
export const deleteRunHandler = httpHandler(async (req, ctx) => {
  const r = await deleteRun(runIdOf(req), ctx);
  ctx.log(
    `deleted run ${r.runId} (${r.pipeline}): ${r.deleted.jobs} job rows, ${r.deleted.logs} logs, ` +
      `${r.deleted.cacheEntries} cache entries, ${r.deleted.lineage} lineage edges`,
  );
  return json(200, r);
});

/** POST /api/runs/{id}/cancel */
export const cancelRunHandler = httpHandler(async (req, ctx) => {
  const doc = await cancelRun(runIdOf(req), undefined, ctx);
  return json(202, { runId: doc.runId, status: 'Canceling', statusUrl: statusUrl(req, doc.runId) });
});

/** POST /api/runs/{id}/rerun: same pipeline version, parameters and input data; reuse does the resuming. */
export const rerunHandler = httpHandler(async (req, ctx) => {
  const doc = await mustReadRun(runIdOf(req));
  const inputs: Record<string, string> = {};
  for (const [name, r] of Object.entries(doc.resolvedInputs))
    if (!name.startsWith('ref:')) inputs[name] = r.hash;
  const r = await startRun(
    {
      pipeline: doc.pipeline,
      ...(doc.version > 0 ? { version: doc.version } : {}),
      parameters: doc.parameters,
      inputs,
      tags: doc.tags,
      continueOnStepFailure: doc.continueOnStepFailure,
    },
    { type: 'rest' },
    // A draft's run (version -N) reruns the same draft.
    { context: ctx, rerunOf: doc.runId, ...(doc.version < 0 ? { draft: -doc.version } : {}) },
  );
  const url = statusUrl(req, r.runId);
  return json(
    202,
    { runId: r.runId, status: r.status, statusUrl: url, rerunOf: doc.runId },
    { location: url },
  );
});
