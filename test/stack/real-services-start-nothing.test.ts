import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { planEmbeddedStack, startEmbeddedStack } from '../../lib/stack';

const REAL_STORAGE =
  'DefaultEndpointsProtocol=https;AccountName=sluiceprod;AccountKey=bm90LWEta2V5;EndpointSuffix=core.windows.net';
const REAL_COSMOS = 'https://sluice-prod.documents.azure.com:443/';

test('settings that name real Azure resources start nothing; local or missing settings start the emulator', async () => {
  assert.deepEqual(planEmbeddedStack({ AzureWebJobsStorage: REAL_STORAGE, COSMOS_ENDPOINT: REAL_COSMOS }), {
    storage: false,
    cosmos: false,
  });
  assert.deepEqual(planEmbeddedStack({}), { storage: true, cosmos: true });
  assert.deepEqual(
    planEmbeddedStack({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      COSMOS_ENDPOINT: 'http://127.0.0.1:8081',
    }),
    { storage: true, cosmos: true },
  );
  assert.deepEqual(planEmbeddedStack({ AzureWebJobsStorage: REAL_STORAGE }), {
    storage: false,
    cosmos: true,
  });
  assert.deepEqual(planEmbeddedStack({ COSMOS_ENDPOINT: REAL_COSMOS }), { storage: true, cosmos: false });
  assert.deepEqual(
    planEmbeddedStack({
      AzureWebJobsStorage:
        'DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k;BlobEndpoint=http://localhost:10000/a;',
    }),
    { storage: true, cosmos: true },
  );

  // With both real, starting the stack starts no process and leaves the settings alone.
  const stack = await startEmbeddedStack({
    dataDir: os.tmpdir(),
    env: { AzureWebJobsStorage: REAL_STORAGE, COSMOS_ENDPOINT: REAL_COSMOS },
    writeStackFile: false,
  });
  assert.deepEqual(stack.env, {});
  assert.deepEqual(stack.pids, { azurite: undefined, cosmos: undefined });
  await stack.stop();
});
