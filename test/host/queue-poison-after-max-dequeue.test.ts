/**
 * Behaviour: a message whose function keeps failing is retried until maxDequeueCount (3 in the
 * fixture's host.json) attempts, with dequeueCount visible to each, then moved to <queue>-poison; a
 * PoisonMessageError moves it there at once, and so does a message that cannot be decoded.
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

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

async function poisonMessages(poison: QueueClient): Promise<string[] | undefined> {
  if (!(await poison.exists())) return undefined;
  const r = await poison.peekMessages({ numberOfMessages: 32 });
  return r.peekedMessageItems.length
    ? r.peekedMessageItems.map((m) => Buffer.from(m.messageText, 'base64').toString())
    : undefined;
}

test('a failing message is tried maxDequeueCount times, then poisoned', async () => {
  const queue = new QueueClient(storage.connectionString, 'basic-work');
  const poison = new QueueClient(storage.connectionString, 'basic-work-poison');
  await queue.createIfNotExists();
  await queue.sendMessage(b64({ fail: true, n: 1 }));

  const moved = await eventually(() => poisonMessages(poison), 'the message to reach basic-work-poison');
  assert.deepEqual(
    moved.map((t) => JSON.parse(t)),
    [{ fail: true, n: 1 }],
  );
  const attempts = (await events(host, 'work')).filter((e) => (e.message as { n?: number }).n === 1);
  assert.deepEqual(
    attempts.map((a) => a.dequeueCount),
    [1, 2, 3],
  );
  assert.equal((await queue.peekMessages()).peekedMessageItems.length, 0);
});

test('a PoisonMessageError goes to poison without retries', async () => {
  const queue = new QueueClient(storage.connectionString, 'basic-work');
  const poison = new QueueClient(storage.connectionString, 'basic-work-poison');
  await queue.sendMessage(b64({ invalid: true, n: 2 }));
  await eventually(async () => {
    const m = await poisonMessages(poison);
    return m?.some((t) => t.includes('"n":2')) ? true : undefined;
  }, 'the invalid message to reach poison');
  const attempts = (await events(host, 'work')).filter((e) => (e.message as { n?: number }).n === 2);
  assert.deepEqual(
    attempts.map((a) => a.dequeueCount),
    [1],
  );
});

test('a message that is not base64 under messageEncoding base64 goes to poison unread', async () => {
  const queue = new QueueClient(storage.connectionString, 'basic-work');
  const poison = new QueueClient(storage.connectionString, 'basic-work-poison');
  await queue.sendMessage('plain text, not base64!');
  const raw = await eventually(async () => {
    const r = await poison.peekMessages({ numberOfMessages: 32 });
    return r.peekedMessageItems.find((m) => m.messageText === 'plain text, not base64!');
  }, 'the undecodable message to reach poison');
  assert.equal(raw.messageText, 'plain text, not base64!', 'moved unchanged');
  const attempts = (await events(host, 'work')).filter((e) => e.queueTrigger === 'plain text, not base64!');
  assert.equal(attempts.length, 0);
});
