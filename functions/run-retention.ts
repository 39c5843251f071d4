import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { RUN_RETENTION_SCHEDULE, deleteExpiredRunsOnTimer } from '../lib/runs/retention';

// useMonitor off: a missed day needs no catch-up, the next run covers everything past the retention.
app.timer('run-retention', {
  schedule: RUN_RETENTION_SCHEDULE,
  useMonitor: false,
  runOnStartup: false,
  // Deleting a run purges its orchestration history through this binding.
  extraInputs: [df.input.durableClient()],
  handler: deleteExpiredRunsOnTimer,
});
