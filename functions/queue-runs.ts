import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { deliverOnTimer } from '../lib/triggers/deliveries';
import { RUNS_QUEUE } from '../lib/triggers/queue-message';
import {
  deliveriesHandler,
  onRunMessage,
  poisonHandler,
  rejectionsHandler,
} from '../lib/triggers/queue-runs';

app.storageQueue('queue-runs', {
  queueName: RUNS_QUEUE,
  connection: 'AzureWebJobsStorage',
  // Starting a run starts its orchestration: on Azure only this binding reaches the durable engine.
  extraInputs: [df.input.durableClient()],
  handler: onRunMessage,
});

app.http('queue-rejections', {
  route: 'triggers/queue/rejections',
  methods: ['GET'],
  authLevel: 'function',
  handler: rejectionsHandler,
});

app.http('queue-poison', {
  route: 'triggers/queue/poison',
  methods: ['GET'],
  authLevel: 'function',
  handler: poisonHandler,
});

app.http('queue-deliveries', {
  route: 'triggers/queue/deliveries',
  methods: ['GET'],
  authLevel: 'function',
  handler: deliveriesHandler,
});

// Registers the outputs of finished queue runs where their messages asked (lib/triggers/deliveries.ts).
app.timer('queue-run-deliveries', {
  schedule: '*/5 * * * * *',
  useMonitor: false,
  handler: deliverOnTimer,
});
