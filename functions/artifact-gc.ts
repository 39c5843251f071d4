import { app } from '@azure/functions';
import { GC_SCHEDULE, collectGarbageOnTimer } from '../lib/data/gc';
import { gcHandler } from '../lib/data/gc-http';

// useMonitor off: a missed day needs no catch-up run, the next one collects everything unreferenced.
app.timer('artifact-gc', {
  schedule: GC_SCHEDULE,
  useMonitor: false,
  runOnStartup: false,
  handler: collectGarbageOnTimer,
});

// Admin only: it deletes data. The local host reserves /admin/* at the root, so the route is /api/gc.
app.http('artifact-gc-now', {
  route: 'gc',
  methods: ['POST'],
  authLevel: 'admin',
  handler: gcHandler,
});
