import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startHostProcess } from '../support/sluice';

const REPO = path.resolve(__dirname, '..', '..', '..');

/** A minimal Functions v4 app, written to a temporary folder. */
function writeApp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-app-'));
  fs.mkdirSync(path.join(dir, 'app'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'tiny', main: 'app/*.js' }));
  fs.writeFileSync(path.join(dir, 'host.json'), JSON.stringify({ version: '2.0' }));
  fs.writeFileSync(
    path.join(dir, 'app', 'hello.js'),
    `const { app } = require('@azure/functions');
app.http('hello', { methods: ['GET'], authLevel: 'anonymous', handler: async () => ({
  jsonBody: { hello: 'world', storage: /BlobEndpoint=http:\\/\\/127\\.0\\.0\\.1/.test(process.env.AzureWebJobsStorage || '') },
}) });
`,
  );
  return dir;
}

test('startHostProcess runs another app folder with its own stack, and restart keeps that stack’s data', async () => {
  const appDir = writeApp();
  const host = await startHostProcess(appDir, {
    readyPath: '/api/hello',
    env: { NODE_PATH: path.join(REPO, 'node_modules') },
  });
  try {
    assert.deepEqual(await host.json('hello'), { hello: 'world', storage: true });
    const blobs = BlobServiceClient.fromConnectionString(host.env.AzureWebJobsStorage).getContainerClient(
      'things',
    );
    await blobs.create();
    await blobs.getBlockBlobClient('x').upload('1', 1);

    await host.restart();
    const after = BlobServiceClient.fromConnectionString(host.env.AzureWebJobsStorage).getContainerClient(
      'things',
    );
    assert.equal((await after.getBlobClient('x').downloadToBuffer()).toString(), '1');
    assert.equal((await host.api('/api/nothing-here')).status, 404);
  } finally {
    await host.stop();
    fs.rmSync(appDir, { recursive: true, force: true });
  }
});
