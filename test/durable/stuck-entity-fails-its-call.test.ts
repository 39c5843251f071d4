/**
 * Behaviour: entity batches run on the episode worker threads too, under the same limit: an entity
 * operation stuck in a synchronous loop is stopped, its caller gets the failure naming the entity
 * function and the limit, the host keeps answering meanwhile, and the entity goes on with the next
 * operation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useDurableHost, waitForFinish } from './support/durable-host';

const h = useDurableHost({ env: { SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS: '3' } });

test('a stuck entity operation fails its call after the limit; the host and the entity go on', async () => {
  const id = await h.client.startNew('callsSpinningEntity', { input: 'k' });
  await new Promise((r) => setTimeout(r, 1000));
  const res = await fetch(`${h.baseUrl}/durabletask/instances/${id}`, { signal: AbortSignal.timeout(2000) });
  assert.equal(res.status, 202, 'the host answers while the entity spins');
  const other = await h.client.startNew('sequence', { input: { n: 2, activity: 'noop' } });
  assert.equal((await waitForFinish(h.client, other, 20_000)).runtimeStatus, 'Completed');
  const s = await waitForFinish(h.client, id, 30_000);
  assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
  assert.match(
    s.output.failure,
    /the entity function 'spinner' ran longer than 3 s \(SLUICE_ORCHESTRATOR_TIMEOUT_SECONDS\)/,
  );
  assert.equal(s.output.after, 'ok');
});
