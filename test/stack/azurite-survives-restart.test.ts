import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import { startEmbeddedStack } from '../../lib/stack';

test('blobs, queue messages and table entities survive a restart of the stack on the same data folder', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-azurite-'));
  let stack = await startEmbeddedStack({ dataDir, env: {} });
  try {
    let conn = stack.env.AzureWebJobsStorage;
    const container = BlobServiceClient.fromConnectionString(conn).getContainerClient('artifacts');
    await container.create();
    await container.getBlockBlobClient('model.bin').uploadData(Buffer.alloc(100_000, 7));
    const queue = QueueServiceClient.fromConnectionString(conn).getQueueClient('sluice-jobs-local');
    await queue.create();
    await queue.sendMessage('job-1');
    const table = TableClient.fromConnectionString(conn, 'schedules', { allowInsecureConnection: true });
    await table.createTable();
    await table.upsertEntity({ partitionKey: 'p', rowKey: 'nightly', last: '2026-01-01' });

    await stack.stop();
    stack = await startEmbeddedStack({ dataDir, env: {} });
    conn = stack.env.AzureWebJobsStorage;

    const blob = await BlobServiceClient.fromConnectionString(conn)
      .getContainerClient('artifacts')
      .getBlobClient('model.bin')
      .downloadToBuffer();
    assert.deepEqual(blob, Buffer.alloc(100_000, 7));
    const peeked = await QueueServiceClient.fromConnectionString(conn)
      .getQueueClient('sluice-jobs-local')
      .peekMessages();
    assert.equal(peeked.peekedMessageItems[0]?.messageText, 'job-1');
    const entity = await TableClient.fromConnectionString(conn, 'schedules', {
      allowInsecureConnection: true,
    }).getEntity<{
      last: string;
    }>('p', 'nightly');
    assert.equal(entity.last, '2026-01-01');
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
