/**
 * Behaviour: continueAsNew restarts the orchestration with the new input and a fresh history until it
 * returns; setCustomStatus is visible through the client; the final history holds only the last
 * execution.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForFinish, waitForStatus, useDurableHost } from './support/durable-host';

const h = useDurableHost();

test('counter continues as new three times and reports its custom status', async () => {
  const id = await h.client.startNew('counter', { input: 0 });
  const done = await waitForFinish(h.client, id);
  assert.equal(done.runtimeStatus, 'Completed');
  assert.equal(done.output, 'counted to 3');
  assert.deepEqual(done.customStatus, { n: 3 });
  assert.equal(done.input, 3, 'the input of the last execution');
  const started = done.history.filter((e: any) => e.EventType === 'ExecutionStarted');
  assert.equal(started.length, 1, 'only the last execution is kept');
  assert.equal(started[0].Input, 3);
});

test('custom status is visible while the orchestration runs', async () => {
  const id = await h.client.startNew('waitForever');
  const s = await waitForStatus(h.client, id, (x) => x.customStatus !== null && x.customStatus !== undefined);
  assert.deepEqual(s.customStatus, { stage: 'waiting' });
  assert.equal(s.runtimeStatus, 'Running');
  await h.client.terminate(id, 'test over');
});
