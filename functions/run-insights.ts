import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { startDraftRunHandler } from '../lib/runs/draft-http';
import {
  compareRunsHandler,
  computeAgentsHandler,
  computeTargetsHandler,
  pipelineMetricsHandler,
  runMetricsHandler,
  stepBatchesHandler,
} from '../lib/runs/insights-http';

// Read-only views over runs (metrics, comparison, batches) and the compute targets.
app.http('runs-compare', {
  route: 'runs/compare',
  methods: ['GET'],
  authLevel: 'function',
  handler: compareRunsHandler,
});
app.http('runs-metrics', {
  route: 'runs/{id}/metrics',
  methods: ['GET'],
  authLevel: 'function',
  handler: runMetricsHandler,
});
app.http('runs-step-batches', {
  route: 'runs/{id}/steps/{step}/batches',
  methods: ['GET'],
  authLevel: 'function',
  handler: stepBatchesHandler,
});
app.http('pipelines-metrics', {
  route: 'pipelines/{name}/metrics',
  methods: ['GET'],
  authLevel: 'function',
  handler: pipelineMetricsHandler,
});
app.http('compute-targets-overview', {
  route: 'compute/targets',
  methods: ['GET'],
  authLevel: 'function',
  handler: computeTargetsHandler,
});
app.http('runs-start-draft', {
  route: 'runs/drafts',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: startDraftRunHandler,
});
app.http('compute-agents-overview', {
  route: 'compute/agents',
  methods: ['GET'],
  authLevel: 'function',
  handler: computeAgentsHandler,
});
