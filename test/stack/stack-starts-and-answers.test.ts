import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import { CosmosClient } from '@azure/cosmos';
import { startTestStack } from '../support/stack';

test('the in-memory stack serves blob, queue, table and Cosmos on loopback, and stop ends its processes', async () => {
  const stack = await startTestStack({ applyEnv: false });
  const { pids } = stack;
  try {
    const conn = stack.env.AzureWebJobsStorage;
    assert.match(conn, /BlobEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1/);
    assert.match(stack.env.COSMOS_ENDPOINT, /^http:\/\/127\.0\.0\.1:\d+$/);

    const blobs = BlobServiceClient.fromConnectionString(conn).getContainerClient('probe');
    await blobs.create();
    await blobs.getBlockBlobClient('a.txt').upload('hello', 5);
    assert.equal((await blobs.getBlobClient('a.txt').downloadToBuffer()).toString(), 'hello');

    const queue = QueueServiceClient.fromConnectionString(conn).getQueueClient('probe');
    await queue.create();
    await queue.sendMessage('m1');
    const got = await queue.receiveMessages();
    assert.equal(got.receivedMessageItems[0]?.messageText, 'm1');

    const table = TableClient.fromConnectionString(conn, 'probe', { allowInsecureConnection: true });
    await table.createTable();
    await table.upsertEntity({ partitionKey: 'p', rowKey: 'r', v: 1 });
    assert.equal((await table.getEntity<{ v: number }>('p', 'r')).v, 1);

    const cosmos = new CosmosClient({
      endpoint: stack.env.COSMOS_ENDPOINT,
      key: stack.env.COSMOS_KEY,
      connectionPolicy: { enableEndpointDiscovery: false },
    });
    const { database } = await cosmos.databases.createIfNotExists({ id: 'probe' });
    const { container } = await database.containers.createIfNotExists({
      id: 'c',
      partitionKey: { paths: ['/pk'] },
    });
    await container.items.create({ id: '1', pk: 'a', v: 42 });
    const { resource } = await container.item('1', 'a').read();
    assert.equal(resource.v, 42);
  } finally {
    await stack.stop();
  }
  for (const pid of [pids.azurite, pids.cosmos]) {
    assert.ok(pid);
    assert.throws(() => process.kill(pid, 0), /ESRCH/, `child ${pid} still running after stop`);
  }
});
