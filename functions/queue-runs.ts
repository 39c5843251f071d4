import { app } from '@azure/functions';
import { deliverFinishedRuns } from '../lib/triggers/deliveries';
import { RUNS_QUEUE } from '../lib/triggers/queue-message';
import { deliveriesHandler, handleRunMessage, rejectionsHandler } from '../lib/triggers/queue-runs';

app.storageQueue('queue-runs', {
  queueName: RUNS_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: async (message, ctx) => {
    await handleRunMessage(message, ctx);
  },
});

app.http('queue-rejections', {
  route: 'triggers/queue/rejections',
  methods: ['GET'],
  authLevel: 'function',
  handler: rejectionsHandler,
});

app.http('queue-deliveries', {
  route: 'triggers/queue/deliveries',
  methods: ['GET'],
  authLevel: 'function',
  handler: deliveriesHandler,
});

// Registers the outputs of finished queue runs where their messages asked (see lib/triggers/deliveries.ts).
app.timer('queue-run-deliveries', {
  schedule: '*/5 * * * * *',
  useMonitor: false,
  handler: async (_timer, ctx) => {
    const n = await deliverFinishedRuns((m) => ctx.log(m));
    if (n) ctx.log(`delivered the outputs of ${n} finished queue run(s)`);
  },
});
