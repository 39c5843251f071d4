import { app } from '@azure/functions';
import {
  environmentGetHandler,
  environmentPublishHandler,
  environmentsListHandler,
  environmentVersionHandler,
} from '../lib/environments/http';

app.http('environments', {
  route: 'environments',
  methods: ['GET'],
  authLevel: 'function',
  handler: environmentsListHandler,
});

app.http('environment', {
  route: 'environments/{name}',
  methods: ['GET'],
  authLevel: 'function',
  handler: environmentGetHandler,
});

app.http('environment-publish', {
  route: 'environments/{name}',
  methods: ['POST'],
  authLevel: 'function',
  handler: environmentPublishHandler,
});

app.http('environment-version', {
  route: 'environments/{name}/versions/{version}',
  methods: ['GET'],
  authLevel: 'function',
  handler: environmentVersionHandler,
});
