import { app } from '@azure/functions';
import { computeCollectionHandler, computeLiveHandler, computeTargetHandler } from '../lib/compute/http';
import {
  agentCredentialsHandler,
  agentKeyHandler,
  agentKeysHandler,
  jobCredentialsHandler,
} from '../lib/compute/credentials-http';

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

app.http('agent-keys', {
  route: 'agent-keys',
  methods: ['GET', 'POST'],
  authLevel: 'function',
  handler: agentKeysHandler,
});

app.http('agent-key', {
  route: 'agent-keys/{id}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: agentKeyHandler,
});

// Anonymous to the host: the agent key (x-sluice-agent-key) is checked by the handler.
app.http('agent-credentials', {
  route: 'agent-credentials',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: agentCredentialsHandler,
});

app.http('agent-job-credentials', {
  route: 'agent-credentials/job',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: jobCredentialsHandler,
});
