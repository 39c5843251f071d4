/**
 * Behaviour: suspend pauses an instance (events raised meanwhile wait), resume continues it, terminate
 * ends it with the reason as output, and purge deletes a finished instance so the client no longer
 * finds it. Purging a running instance is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForFinish, waitForStatus, useDurableHost } from './support/durable-host';

const h = useDurableHost();

test('suspend holds events until resume; the instance then completes', async () => {
  const id = await h.client.startNew('twoEvents');
  await waitForStatus(h.client, id, (s) => s.history?.some((e: any) => e.EventType === 'TaskCompleted'));
  await h.client.suspend(id, 'maintenance');
  await waitForStatus(h.client, id, (s) => s.runtimeStatus === 'Suspended');
  await h.client.raiseEvent(id, 'A', 1);
  await h.client.raiseEvent(id, 'B', 2);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(
    (await h.client.getStatus(id)).runtimeStatus,
    'Suspended',
    'events do not run a suspended instance',
  );
  await h.client.resume(id, 'back');
  const done = await waitForFinish(h.client, id);
  assert.equal(done.runtimeStatus, 'Completed');
  assert.deepEqual(done.output, [1, 2]);
  const types = done.history.map((e: any) => e.EventType);
  assert.ok(types.indexOf('ExecutionSuspended') < types.indexOf('ExecutionResumed'));
});

test('terminate ends a running instance with the reason as output', async () => {
  const id = await h.client.startNew('waitForever');
  await waitForStatus(h.client, id, (s) => s.runtimeStatus === 'Running');
  await h.client.terminate(id, 'no longer needed');
  const done = await waitForFinish(h.client, id);
  assert.equal(done.runtimeStatus, 'Terminated');
  assert.equal(done.output, 'no longer needed');
  await h.client.terminate(id, 'again'); // 410 on a finished instance: resolves
});

test('purge removes a finished instance; a running one is refused', async () => {
  const running = await h.client.startNew('waitForever');
  await waitForStatus(h.client, running, (s) => s.runtimeStatus === 'Running');
  await assert.rejects(h.client.purgeInstanceHistory(running), /409/);

  const id = await h.client.startNew('helloCities');
  await waitForFinish(h.client, id);
  const result = await h.client.purgeInstanceHistory(id);
  assert.equal(result.instancesDeleted, 1);
  await assert.rejects(h.client.getStatus(id), /404/);
  assert.equal((await h.client.purgeInstanceHistory(id)).instancesDeleted, 0);
  await h.client.terminate(running, 'cleanup');
});
