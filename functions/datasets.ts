import { app } from '@azure/functions';
import {
  datasetGetHandler,
  datasetPostHandler,
  datasetVersionHandler,
  datasetsListHandler,
} from '../lib/data/http';

app.http('datasets', {
  route: 'datasets',
  methods: ['GET'],
  authLevel: 'function',
  handler: datasetsListHandler,
});

app.http('dataset', {
  route: 'datasets/{name}',
  methods: ['GET'],
  authLevel: 'function',
  handler: datasetGetHandler,
});

app.http('dataset-register', {
  route: 'datasets/{name}',
  methods: ['POST'],
  authLevel: 'function',
  handler: datasetPostHandler,
});

app.http('dataset-version', {
  route: 'datasets/{name}/versions/{version}',
  methods: ['GET'],
  authLevel: 'function',
  handler: datasetVersionHandler,
});
