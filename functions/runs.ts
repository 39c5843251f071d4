import { app } from '@azure/functions';
import * as df from 'durable-functions';
import {
  cancelRunHandler,
  deleteRunHandler,
  getRunHandler,
  listRunsHandler,
  rerunHandler,
  startRunHandler,
} from '../lib/runs/http';
import { stepLogsHandler, stepOutputHandler } from '../lib/runs/step-http';

// Routes that start or signal orchestrations take the durable client binding.
const client = { extraInputs: [df.input.durableClient()] };

app.http('runs-start', {
  route: 'pipelines/{name}/runs',
  methods: ['POST'],
  authLevel: 'function',
  ...client,
  handler: startRunHandler,
});
app.http('runs-start-version', {
  route: 'pipelines/{name}/versions/{version}/runs',
  methods: ['POST'],
  authLevel: 'function',
  ...client,
  handler: startRunHandler,
});
app.http('runs-list', { route: 'runs', methods: ['GET'], authLevel: 'function', handler: listRunsHandler });
app.http('runs-get', { route: 'runs/{id}', methods: ['GET'], authLevel: 'function', handler: getRunHandler });
app.http('runs-delete', {
  route: 'runs/{id}',
  methods: ['DELETE'],
  authLevel: 'function',
  ...client,
  handler: deleteRunHandler,
});
app.http('runs-cancel', {
  route: 'runs/{id}/cancel',
  methods: ['POST'],
  authLevel: 'function',
  ...client,
  handler: cancelRunHandler,
});
app.http('runs-rerun', {
  route: 'runs/{id}/rerun',
  methods: ['POST'],
  authLevel: 'function',
  ...client,
  handler: rerunHandler,
});
app.http('runs-step-logs', {
  route: 'runs/{id}/steps/{step}/logs',
  methods: ['GET'],
  authLevel: 'function',
  handler: stepLogsHandler,
});
app.http('runs-step-output', {
  route: 'runs/{id}/steps/{step}/outputs/{output}',
  methods: ['GET'],
  authLevel: 'function',
  handler: stepOutputHandler,
});
