import { app } from '@azure/functions';
import { healthHandler } from '../lib/health/handler';

app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: healthHandler,
});
