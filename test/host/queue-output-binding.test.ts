/**
 * Behaviour: queue output bindings are written after a successful invocation — from extraOutputs of
 * an HTTP function (an array sends one message per element) and from a queue function's return value.
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

const decode = (m: { messageText: string }) => Buffer.from(m.messageText, 'base64').toString();

test('extraOutputs from an HTTP function become queue messages', async () => {
  const res = await fetch(`${host.baseUrl}/api/enqueue`, {
    method: 'POST',
    body: JSON.stringify([{ a: 1 }, 'two']),
  });
  assert.equal(res.status, 202);
  const out = new QueueClient(storage.connectionString, 'basic-out');
  const got = (await out.peekMessages({ numberOfMessages: 10 })).peekedMessageItems.map(decode);
  assert.deepEqual(got, ['{"a":1}', 'two']);
});

test("a queue function's return value goes to its output queue", async () => {
  const input = new QueueClient(storage.connectionString, 'basic-relay-in');
  const out = new QueueClient(storage.connectionString, 'basic-relay-out');
  await input.createIfNotExists();
  await input.sendMessage(Buffer.from(JSON.stringify({ text: 'hello' })).toString('base64'));
  const msg = await eventually(async () => {
    if (!(await out.exists())) return undefined;
    return (await out.peekMessages()).peekedMessageItems[0];
  }, 'the relayed message');
  assert.deepEqual(JSON.parse(decode(msg)), { relayed: 'HELLO' });
});
