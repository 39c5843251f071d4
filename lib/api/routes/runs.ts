import {
  pageOf,
  pagingParams,
  pathParam,
  problems,
  queryParam,
  type JsonSchema,
  type RouteSpec,
} from '../catalogue';

/** Routes of issue 5 (RUNS: functions/runs.ts, handlers in lib/runs/http.ts). */
const TAGS = ['runs'];
const runId = pathParam('id', 'Run id.');
const step = pathParam('step', 'Step name.');
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  description: 'Repeating a request with the same key returns the same run.',
  schema: { type: 'string' },
};

export const schemas: Record<string, JsonSchema> = {
  StartRunRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      version: { type: 'integer', minimum: 1 },
      parameters: { type: 'object', additionalProperties: true },
      inputs: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'name@version|latest or sha256:<hex>.',
      },
      tags: { type: 'object', additionalProperties: { type: 'string' } },
      forceRerun: { type: 'boolean' },
      continueOnStepFailure: { type: 'boolean' },
    },
  },
  RunAccepted: {
    type: 'object',
    required: ['runId', 'status', 'statusUrl'],
    properties: {
      runId: { type: 'string' },
      status: { type: 'string' },
      statusUrl: { type: 'string' },
      created: {
        type: 'boolean',
        description: 'False when an earlier request with the same Idempotency-Key created this run.',
      },
      rerunOf: { type: 'string' },
    },
  },
  StepRun: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      status: {
        enum: ['NotStarted', 'Queued', 'Running', 'Completed', 'Reused', 'Failed', 'Canceled', 'Skipped'],
      },
      attempts: { type: 'integer' },
      cache: {
        type: 'object',
        description:
          'The cache decision: key, decision (reused|run), reason, changes[] since the run named in `since`, components.',
      },
      reusedFrom: { type: 'object', properties: { runId: { type: 'string' }, step: { type: 'string' } } },
      waitingFor: { type: 'object', description: 'Single-flight: another run computes this step.' },
      attemptErrors: { type: 'array', items: { type: 'object' } },
      processMs: { type: 'number' },
      outputs: { type: 'object' },
      exitCode: { type: 'integer' },
      error: { type: 'object' },
      metrics: { type: 'array', items: { type: 'object' } },
      batches: {
        type: 'object',
        description:
          'parallelRun/sweep/automl: batch (trial, family) counts; `failed` failed for good, `retrying` wait for their back-off.',
        properties: {
          total: { type: 'integer' },
          running: { type: 'integer' },
          succeeded: { type: 'integer' },
          failed: { type: 'integer' },
          retrying: { type: 'integer' },
        },
      },
      batchErrors: {
        type: 'array',
        description:
          'parallelRun/sweep/automl: each failed batch attempt (the latest 100); its log is ?batch=&attempt=.',
        items: {
          type: 'object',
          properties: {
            batch: { type: 'integer' },
            attempt: { type: 'integer' },
            code: { type: 'string' },
            message: { type: 'string' },
          },
        },
      },
      bestTrial: {
        type: 'object',
        description: 'sweep: the winning trial, its parameters and metric value.',
      },
      leaderboard: {
        type: 'array',
        description:
          'sweep/automl: every trial, best first (at most 200): rank, trial or family/model, hyperparameters, metrics, durationS, status, error.',
        items: { type: 'object' },
      },
    },
  },
  Run: {
    type: 'object',
    properties: {
      runId: { type: 'string' },
      pipeline: { type: 'string' },
      version: { type: 'integer' },
      status: { enum: ['Queued', 'Running', 'Completed', 'Failed', 'Canceled'] },
      parameters: { type: 'object' },
      trigger: { type: 'object' },
      createdAt: { type: 'string', format: 'date-time' },
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
      steps: { type: 'array', items: { $ref: '#/components/schemas/StepRun' } },
      stepCounts: {
        type: 'object',
        description: 'How many steps have each status, as the orchestration last wrote them.',
        additionalProperties: { type: 'integer' },
      },
    },
  },
};

const startResponses = {
  '202': { description: 'Run accepted', schema: { $ref: '#/components/schemas/RunAccepted' } },
  '200': {
    description: 'The run an earlier request with this Idempotency-Key started',
    schema: { $ref: '#/components/schemas/RunAccepted' },
  },
  ...problems(400, 404, 409),
};

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/pipelines/{name}/runs',
    operationId: 'startRun',
    summary: "Start a run of the pipeline's default version (or body.version)",
    tags: TAGS,
    parameters: [pathParam('name', 'Pipeline name.'), idempotencyKey],
    requestBody: { content: { 'application/json': { $ref: '#/components/schemas/StartRunRequest' } } },
    responses: startResponses,
  },
  {
    method: 'post',
    path: '/api/pipelines/{name}/versions/{version}/runs',
    operationId: 'startRunOfVersion',
    summary: 'Start a run of a specific version',
    tags: TAGS,
    parameters: [
      pathParam('name', 'Pipeline name.'),
      pathParam('version', 'Version number.'),
      idempotencyKey,
    ],
    requestBody: { content: { 'application/json': { $ref: '#/components/schemas/StartRunRequest' } } },
    responses: startResponses,
  },
  {
    method: 'get',
    path: '/api/runs',
    operationId: 'listRuns',
    summary: 'Runs, filtered by pipeline and status (paged)',
    tags: TAGS,
    parameters: [
      queryParam('pipeline', 'Pipeline name.'),
      queryParam('status', 'Run status.'),
      ...pagingParams,
    ],
    responses: {
      '200': { description: 'A page of runs', schema: pageOf({ $ref: '#/components/schemas/Run' }) },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/runs/{id}',
    operationId: 'getRun',
    summary:
      'A run with its steps (`steps=none`: its head alone, with `stepCounts` by status, one read at any size)',
    tags: TAGS,
    parameters: [runId, queryParam('steps', '`all` (default) or `none`.')],
    responses: {
      '200': { description: 'The run', schema: { $ref: '#/components/schemas/Run' } },
      ...problems(400, 404),
    },
  },
  {
    method: 'delete',
    path: '/api/runs/{id}',
    operationId: 'deleteRun',
    summary:
      'Delete a finished run: its document, logs, job rows, durable history, the cache entries it wrote and ' +
      'its lineage edges. Artifacts stay while anything references them; the artifact GC collects the rest.',
    tags: TAGS,
    parameters: [runId],
    responses: {
      '200': {
        description: 'What was deleted',
        schema: {
          type: 'object',
          properties: {
            runId: { type: 'string' },
            pipeline: { type: 'string' },
            deleted: {
              type: 'object',
              properties: {
                jobs: { type: 'integer' },
                logs: { type: 'integer' },
                cacheEntries: { type: 'integer' },
                lineage: { type: 'integer' },
              },
            },
          },
        },
      },
      ...problems(404, 409),
    },
  },
  {
    method: 'post',
    path: '/api/runs/{id}/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a run, its running steps and their processes',
    tags: TAGS,
    parameters: [runId],
    responses: {
      '202': { description: 'Cancellation requested', schema: { type: 'object' } },
      ...problems(404, 409),
    },
  },
  {
    method: 'post',
    path: '/api/runs/{id}/rerun',
    operationId: 'rerunRun',
    summary: 'A new run with the same inputs, reusing whatever succeeded',
    tags: TAGS,
    parameters: [runId],
    responses: { '202': startResponses['202'], ...problems(404, 409) },
  },
  {
    method: 'get',
    path: '/api/runs/{id}/steps/{step}/logs',
    operationId: 'getStepLogs',
    summary:
      "A step's stdout/stderr; ?follow=true streams while it runs. A mini-batch or trial step without " +
      '?batch answers every batch’s latest log under `==> batch N, attempt A <==` headers.',
    tags: TAGS,
    parameters: [
      runId,
      step,
      queryParam('follow', 'Stream until the step ends (on a batch step: with batch).', { type: 'boolean' }),
      queryParam('batch', 'parallelRun/automl: one mini-batch (trial), 0-based.', {
        type: 'integer',
        minimum: 0,
      }),
      queryParam('attempt', 'An earlier attempt (of the batch, with batch; default: the latest).', {
        type: 'integer',
        minimum: 1,
      }),
    ],
    responses: {
      '200': { description: 'Log text', schema: { type: 'string' }, contentType: 'text/plain' },
      ...problems(400, 404),
    },
  },
  {
    method: 'get',
    path: '/api/runs/{id}/steps/{step}/outputs/{output}',
    operationId: 'getStepOutput',
    summary: 'An output file, or the manifest of a directory output (?path= for one file inside)',
    tags: TAGS,
    parameters: [
      runId,
      step,
      pathParam('output', 'Output name.'),
      queryParam('path', 'A file inside a directory output.'),
    ],
    responses: {
      '200': {
        description: 'The file, or the manifest',
        schema: { type: 'string', contentEncoding: 'binary' },
        contentType: 'application/octet-stream',
      },
      ...problems(400, 404),
    },
  },
];
