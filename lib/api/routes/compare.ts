import { pagingParams, pathParam, problems, queryParam, type JsonSchema, type RouteSpec } from '../catalogue';

/** Read-only views over runs (issue 15): handlers in lib/runs/insights-http.ts. */
const TAGS = ['runs'];
const runId = pathParam('id', 'Run id.');

const series: JsonSchema = {
  type: 'object',
  properties: {
    step: { type: 'string' },
    name: { type: 'string' },
    points: {
      type: 'array',
      items: {
        type: 'object',
        properties: { x: { type: 'number' }, value: { type: 'number' }, time: { type: 'string' } },
      },
    },
    last: { type: 'number' },
    min: { type: 'number' },
    max: { type: 'number' },
  },
};

const row = (cell: JsonSchema): JsonSchema => ({
  type: 'object',
  properties: {
    name: { type: 'string' },
    values: { type: 'array', items: cell, description: 'One per run, in the order of ids.' },
    differs: { type: 'boolean' },
  },
});

export const schemas: Record<string, JsonSchema> = {
  MetricSeries: series,
  RunComparison: {
    type: 'object',
    properties: {
      runs: { type: 'array', items: { type: 'object' } },
      mixedPipelines: { type: 'boolean' },
      parameters: { type: 'array', items: row({}) },
      steps: {
        type: 'array',
        items: row({ type: ['object', 'null'] }),
        description: 'Status, cache decision, reason, key and duration per run; differs compares keys.',
      },
      metrics: {
        type: 'array',
        items: row({ type: ['number', 'null'] }),
        description: 'The last value of each (step, metric) per run.',
      },
    },
  },
};

export const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/api/runs/drafts',
    operationId: 'startDraftRun',
    summary:
      'Run a definition without publishing it (a draft of its pipeline; the run records version -N and the ' +
      'definition hash). Steps reuse what published runs computed, and the reverse.',
    tags: TAGS,
    requestBody: {
      content: {
        'application/json': {
          type: 'object',
          required: ['definition'],
          additionalProperties: false,
          properties: {
            definition: { $ref: '#/components/schemas/PipelineDefinition' },
            parameters: { type: 'object', additionalProperties: true },
            inputs: { type: 'object', additionalProperties: { type: 'string' } },
            tags: { type: 'object', additionalProperties: { type: 'string' } },
            forceRerun: { type: 'boolean' },
            continueOnStepFailure: { type: 'boolean' },
          },
        },
      },
    },
    responses: {
      '202': {
        description: 'Run accepted',
        schema: {
          type: 'object',
          properties: {
            runId: { type: 'string' },
            status: { type: 'string' },
            statusUrl: { type: 'string' },
            pipeline: { type: 'string' },
            draft: { type: 'integer', description: 'The draft number N (the run records version -N).' },
            definitionHash: { type: 'string' },
          },
        },
      },
      ...problems(400, 404),
    },
  },
  {
    method: 'get',
    path: '/api/runs/{id}/metrics',
    operationId: 'getRunMetrics',
    summary: 'The metric series of a run: one per (step, metric name), in logged order',
    tags: TAGS,
    parameters: [runId],
    responses: {
      '200': {
        description: 'The series',
        schema: {
          type: 'object',
          properties: {
            runId: { type: 'string' },
            pipeline: { type: 'string' },
            series: { type: 'array', items: { $ref: '#/components/schemas/MetricSeries' } },
          },
        },
      },
      ...problems(404),
    },
  },
  {
    method: 'get',
    path: '/api/runs/compare',
    operationId: 'compareRuns',
    summary: 'Runs side by side: parameters, cache decisions, durations and metrics, with differences marked',
    tags: TAGS,
    parameters: [queryParam('ids', 'Two to twenty run ids, comma-separated.', { type: 'string' })],
    responses: {
      '200': { description: 'The comparison', schema: { $ref: '#/components/schemas/RunComparison' } },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/runs/{id}/steps/{step}/batches',
    operationId: 'getStepBatches',
    summary:
      "A parallelRun step's mini-batches or an automl step's trials: attempts, times, metrics (and trial parameters)",
    tags: TAGS,
    parameters: [runId, pathParam('step', 'Step name.')],
    responses: {
      '200': { description: 'The batches, by index then attempt', schema: { type: 'object' } },
      ...problems(404),
    },
  },
  {
    method: 'get',
    path: '/api/pipelines/{name}/metrics',
    operationId: 'getPipelineMetric',
    summary: 'One metric across the runs of a pipeline, newest run first (paged)',
    tags: ['pipelines'],
    parameters: [
      pathParam('name', 'Pipeline name.'),
      queryParam('metric', 'The metric name (required).'),
      queryParam('step', 'Only this step (default: every step that logs the metric).'),
      ...pagingParams,
    ],
    responses: {
      '200': {
        description: 'A page of runs with the metric’s last, min and max per step',
        schema: {
          type: 'object',
          required: ['items'],
          properties: {
            items: { type: 'array', items: { type: 'object' } },
            continuationToken: { type: 'string' },
            next: { type: 'string' },
          },
        },
      },
      ...problems(400),
    },
  },
  {
    method: 'get',
    path: '/api/compute/targets',
    operationId: 'computeTargetsOverview',
    summary: 'Compute targets (SLUICE_COMPUTE_TARGETS), their agent pools and the jobs waiting in each',
    tags: ['platform'],
    responses: { '200': { description: 'The targets', schema: { type: 'object' } } },
  },
  {
    method: 'get',
    path: '/api/compute/agents',
    operationId: 'listBusyAgents',
    summary:
      'Agents working now (from the running jobs: pool, running jobs, last heartbeat); idle agents leave no trace',
    tags: ['platform'],
    responses: { '200': { description: 'The agents', schema: { type: 'object' } } },
  },
];
