/**
 * Behaviour: callSubOrchestrator runs children with generated ids (`<parent execution id>:<event id>`)
 * and explicit ids, reports a child's failure to the parent as an error it can catch, and
 * callSubOrchestratorWithRetry starts a new child after a failed one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForFinish, useDurableHost } from './support/durable-host';

const h = useDurableHost();

test('parent gets children results, a catchable child failure, and a retried child', async () => {
  const parentId = await h.client.startNew('parent', { input: { childId: 'explicit-child-1' } });
  const status = await waitForFinish(h.client, parentId);
  assert.equal(status.runtimeStatus, 'Completed', JSON.stringify(status.output));
  const out = status.output;
  const executionId = h.engine.instances.get(parentId)!.committed.executionId;
  assert.equal(out.generated.greeting, 'Hello, Oslo!');
  assert.equal(out.generated.instanceId, `${executionId}:0`);
  assert.equal(out.generated.parent, parentId);
  assert.deepEqual(out.explicit, {
    greeting: 'Hello, Lima!',
    instanceId: 'explicit-child-1',
    parent: parentId,
  });
  assert.match(out.failure, /Orchestrator function 'child' failed: child failed on purpose \(x\)/);
  assert.equal(out.attempts, 2);
  assert.equal(out.explicitAttempts, 3, 'an explicit child id is reused for each attempt');
  const retried = await h.client.getStatus(`${parentId}-retried-child`);
  assert.equal(retried.runtimeStatus, 'Completed');
  assert.equal(retried.output, 3);

  const child = await h.client.getStatus('explicit-child-1');
  assert.equal(child.runtimeStatus, 'Completed');
  assert.equal(child.name, 'child');
  const failedChild = await h.client.getStatus(`${executionId}:2`);
  assert.equal(failedChild.runtimeStatus, 'Failed');
});
