/**
 * Behaviour: one queue function runs several messages at once but never more than batchSize +
 * newBatchThreshold (4 + 2 in the fixture's host.json), and every message is handled.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import type { RunningHost } from '../../lib/host/index';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, eventually, startBasicHost } from './support/host';

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

const probe = () =>
  (globalThis as unknown as Record<symbol, { running: number; max: number; done: number }>)[
    Symbol.for('sluice.fixture.basic.slowWork')
  ]!;

test('messages run concurrently within the batch limits', async () => {
  const queue = new QueueClient(storage.connectionString, 'basic-slow');
  await queue.createIfNotExists();
  for (let i = 0; i < 14; i++) await queue.sendMessage(Buffer.from(`job ${i}`).toString('base64'));
  await eventually(async () => (probe().done === 14 ? true : undefined), 'all 14 messages', 30_000);
  assert.ok(probe().max >= 2, `ran concurrently (max ${probe().max})`);
  assert.ok(probe().max <= 6, `never more than batchSize + newBatchThreshold (max ${probe().max})`);
});
