import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { readStackFile } from '../../lib/stack';
import { startSluice } from '../support/sluice';

const cosmos = (env: Record<string, string>): CosmosClient =>
  new CosmosClient({
    endpoint: env.COSMOS_ENDPOINT,
    key: env.COSMOS_KEY,
    connectionPolicy: { enableEndpointDiscovery: false },
  });

test('sluice start keeps Cosmos and blob data across a SIGKILL and a clean restart on the same data folder', async () => {
  const sluice = await startSluice();
  try {
    const port = sluice.port;
    const { container } = await (
      await cosmos(sluice.env).databases.createIfNotExists({ id: 'probe' })
    ).database.containers.createIfNotExists({ id: 'things', partitionKey: { paths: ['/id'] } });
    await container.items.create({ id: 'before-kill', v: 1 });
    const blobs = BlobServiceClient.fromConnectionString(sluice.env.AzureWebJobsStorage).getContainerClient(
      'probe',
    );
    await blobs.create();
    await blobs.getBlockBlobClient('b').upload('kept', 4);
    const before = readStackFile(sluice.dataDir)!;

    await sluice.kill('SIGKILL');
    await sluice.restart();
    assert.equal(sluice.port, port);
    assert.notEqual(readStackFile(sluice.dataDir)!.cosmos!.pid, before.cosmos!.pid);
    let c = cosmos(sluice.env).database('probe').container('things');
    assert.equal((await c.item('before-kill', 'before-kill').read()).resource?.v, 1);
    await c.items.create({ id: 'before-restart', v: 2 });

    await sluice.restart();
    c = cosmos(sluice.env).database('probe').container('things');
    const { resources } = await c.items.query('SELECT VALUE c.id FROM c ORDER BY c.id').fetchAll();
    assert.deepEqual(resources, ['before-kill', 'before-restart']);
    const blob = BlobServiceClient.fromConnectionString(sluice.env.AzureWebJobsStorage)
      .getContainerClient('probe')
      .getBlobClient('b');
    assert.equal((await blob.downloadToBuffer()).toString(), 'kept');
    assert.equal((await sluice.api('/api/health')).status, 200);
  } finally {
    await sluice.stop();
  }
});
