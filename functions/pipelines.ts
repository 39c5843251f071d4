import { app } from '@azure/functions';
import {
  pipelineHandler,
  pipelineVersionHandler,
  pipelineVersionsHandler,
  pipelinesCollectionHandler,
} from '../lib/pipelines/http';

// authLevel "function": the host asks for a key only when one is configured.
app.http('pipelines', {
  route: 'pipelines',
  methods: ['GET', 'POST'],
  authLevel: 'function',
  handler: pipelinesCollectionHandler,
});

app.http('pipeline', {
  route: 'pipelines/{name}',
  methods: ['GET', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: pipelineHandler,
});

app.http('pipeline-versions', {
  route: 'pipelines/{name}/versions',
  methods: ['GET'],
  authLevel: 'function',
  handler: pipelineVersionsHandler,
});

app.http('pipeline-version', {
  route: 'pipelines/{name}/versions/{version}',
  methods: ['GET'],
  authLevel: 'function',
  handler: pipelineVersionHandler,
});
