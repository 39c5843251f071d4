/**
 * Behaviour: blob input and output bindings read and write blobs at paths built from binding
 * expressions — route parameters for HTTP, JSON message properties for queues, {rand-guid} — and a
 * missing input blob arrives as null.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { startHost, type RunningHost } from '../../lib/host/index';
import { resolveBindingPath } from '../../lib/host/blobs';
import { startTestStorage, BASIC_APP, type TestStorage } from './support/storage';
import { captureLog, eventually } from './support/host';

let storage: TestStorage;
let host: RunningHost;
before(async () => {
  storage = await startTestStorage();
  host = await startHost({
    appDir: join(BASIC_APP, 'blobs'),
    port: 0,
    embeddedStack: false,
    logger: captureLog().logger,
    env: { AzureWebJobsStorage: storage.connectionString },
  });
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

test('HTTP functions write and read blobs named by route parameters', async () => {
  assert.equal(
    (await fetch(`${host.baseUrl}/api/blobs/report`, { method: 'PUT', body: 'quarterly numbers' })).status,
    201,
  );
  const read = await fetch(`${host.baseUrl}/api/blobs/report`);
  assert.equal(await read.text(), 'quarterly numbers');
  assert.equal((await fetch(`${host.baseUrl}/api/blobs/missing`)).status, 404, 'a missing blob is null');
});

test('a queue function copies a blob named by the message', async () => {
  await fetch(`${host.baseUrl}/api/blobs/source`, { method: 'PUT', body: 'original' });
  await new QueueClient(storage.connectionString, 'blob-copies').sendMessage(
    JSON.stringify({ from: 'source', to: 'dest' }),
  );
  const copies = BlobServiceClient.fromConnectionString(storage.connectionString).getContainerClient(
    'copies',
  );
  const name = await eventually(async () => {
    if (!(await copies.exists())) return undefined;
    for await (const b of copies.listBlobsFlat()) return b.name;
    return undefined;
  }, 'the copy');
  assert.match(name, /^dest-[0-9a-f-]{36}\.txt$/);
  assert.equal((await copies.getBlobClient(name).downloadToBuffer()).toString(), 'original (copied)');
});

test('binding expressions: properties, metadata, settings; a missing value is a clear error', () => {
  process.env.SLUICE_TEST_CONTAINER = 'box';
  try {
    assert.equal(
      resolveBindingPath(
        '%SLUICE_TEST_CONTAINER%/{Order.Id}-{queueTrigger}',
        { order: { id: 7 }, queueTrigger: 'q' },
        'x',
      ),
      'box/7-q',
    );
  } finally {
    delete process.env.SLUICE_TEST_CONTAINER;
  }
  assert.throws(() => resolveBindingPath('c/{nope}', {}, 'Function "f" input "b"'), /\{nope\} has no value/);
});
