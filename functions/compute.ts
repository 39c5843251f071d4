import { app } from '@azure/functions';
import { computeCollectionHandler, computeLiveHandler, computeTargetHandler } from '../lib/compute/http';

app.http('compute-targets', {
  route: 'compute',
  methods: ['GET'],
  authLevel: 'function',
  handler: computeCollectionHandler,
});

app.http('compute-target', {
  route: 'compute/{name}',
  methods: ['GET', 'PUT', 'DELETE'],
  authLevel: 'function',
  handler: computeTargetHandler,
});

app.http('compute-target-live', {
  route: 'compute/{name}/live',
  methods: ['GET'],
  authLevel: 'function',
  handler: computeLiveHandler,
});
