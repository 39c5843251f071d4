import { app } from '@azure/functions';
import { openApiHandler, pipelineSchemaHandler } from '../lib/api/http';

// The documents describe the API; they hold no data, so they need no key (editors fetch them).
app.http('schema-pipeline', {
  route: 'schemas/pipeline.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: pipelineSchemaHandler,
});

app.http('openapi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openApiHandler,
});
