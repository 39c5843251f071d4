import { app } from '@azure/functions';
import { dashboardHandler } from '../lib/dashboard/handler';

app.http('dashboard', {
  route: 'dashboard/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: dashboardHandler,
});
