/**
 * Behaviour: a message on a triggered queue (base64, the default encoding) is handled exactly once,
 * the function sees the parsed message and its trigger metadata, and the message is deleted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import type { RunningHost } from '../../lib/host/index';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, eventually, events, startBasicHost } from './support/host';

let storage: TestStorage;
let host: RunningHost;
before(async () => {
  storage = await startTestStorage();
  host = await startBasicHost(storage, captureLog());
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

test('one message, one invocation, with metadata, then gone', async () => {
  const queue = new QueueClient(storage.connectionString, 'basic-work');
  await queue.createIfNotExists();
  const text = JSON.stringify({ order: 17 });
  const sent = await queue.sendMessage(Buffer.from(text).toString('base64'));

  const seen = await eventually(async () => (await events(host, 'work'))[0], 'the message to be handled');
  assert.deepEqual(seen.message, { order: 17 });
  assert.equal(seen.dequeueCount, 1);
  assert.equal(seen.id, sent.messageId);
  // As with the Node worker, metadata strings that hold JSON arrive parsed.
  assert.deepEqual(seen.queueTrigger, { order: 17 });
  assert.equal(seen.insertionTime, sent.insertedOn.toISOString());
  assert.equal(typeof seen.popReceipt, 'string');

  await eventually(
    async () => ((await queue.getProperties()).approximateMessagesCount === 0 ? true : undefined),
    'the queue to empty',
  );
  // Give a duplicate delivery every chance: wait until after another poll has surely happened.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await events(host, 'work')).length, 1);
});
