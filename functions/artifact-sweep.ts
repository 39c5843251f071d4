import { app } from '@azure/functions';
import { TMP_SWEEP_SCHEDULE, sweepTmpBlobsOnTimer } from '../lib/data/tmp-sweep';

// useMonitor off: a missed sweep needs no catch-up run, the next one covers everything past the TTL.
app.timer('artifact-tmp-sweep', {
  schedule: TMP_SWEEP_SCHEDULE,
  useMonitor: false,
  runOnStartup: false,
  handler: sweepTmpBlobsOnTimer,
});
