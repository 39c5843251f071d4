import { app } from '@azure/functions';
import { snapshotManifestHandler, snapshotUploadHandler } from '../lib/snapshots/http';

app.http('snapshots', {
  route: 'snapshots',
  methods: ['POST'],
  authLevel: 'function',
  handler: snapshotUploadHandler,
});

app.http('snapshot', {
  route: 'snapshots/{hash}',
  methods: ['GET'],
  authLevel: 'function',
  handler: snapshotManifestHandler,
});
