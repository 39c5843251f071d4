/**
 * Behaviour: an orchestration calling activities in sequence completes through the real host, with the
 * outputs the activities returned, and its history shows each scheduled and completed activity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForFinish, useDurableHost } from './support/durable-host';

const h = useDurableHost();

test('helloCities returns three greetings in order', async () => {
  const id = await h.client.startNew('helloCities');
  const status = await waitForFinish(h.client, id);
  assert.equal(status.runtimeStatus, 'Completed');
  assert.deepEqual(status.output, ['Hello, Tokyo!', 'Hello, Seattle!', 'Hello, London!']);
  assert.equal(status.name, 'helloCities');
  const completed = status.history.filter((e: any) => e.EventType === 'TaskCompleted');
  assert.deepEqual(
    completed.map((e: any) => [e.FunctionName, e.Result]),
    [
      ['hello', 'Hello, Tokyo!'],
      ['hello', 'Hello, Seattle!'],
      ['hello', 'Hello, London!'],
    ],
  );
});

test('a sequence of 50 activities returns every result', async () => {
  const id = await h.client.startNew('sequence', { input: { n: 50 } });
  const status = await waitForFinish(h.client, id);
  assert.equal(status.runtimeStatus, 'Completed');
  assert.deepEqual(
    status.output,
    Array.from({ length: 50 }, (_, i) => i),
  );
});
