import { app } from '@azure/functions';
import { artifactHandler, artifactLineageHandler } from '../lib/data/http';

app.http('artifact', {
  route: 'artifacts/{hash}',
  methods: ['GET'],
  authLevel: 'function',
  handler: artifactHandler,
});

app.http('artifact-lineage', {
  route: 'artifacts/{hash}/lineage',
  methods: ['GET'],
  authLevel: 'function',
  handler: artifactLineageHandler,
});
