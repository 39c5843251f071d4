/**
 * Behaviour: an episode whose history is larger than one Table entity (here ~1 M characters of results)
 * is stored in chunks and parts, read back intact when a new host recovers the running instance, and
 * the instance completes with the right results.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  waitForStatus,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
before(async () => {
  storage = await startTestAzurite();
});
after(async () => {
  await storage?.stop();
});

test('a million characters of history recover after a restart', async () => {
  const count = 8;
  const size = 120_000;
  const first = await startDurableHost(storage);
  let id: string;
  try {
    id = await first.client.startNew('bigResults', { input: { count, size } });
    await waitForStatus(
      first.client,
      id,
      (s) => (s.history ?? []).filter((e: any) => e.EventType === 'TaskCompleted').length === count,
    );
  } finally {
    await first.stop();
  }
  const second = await startDurableHost(storage);
  try {
    await second.client.raiseEvent(id, 'finish', null);
    const s = await waitForFinish(second.client, id);
    assert.equal(s.runtimeStatus, 'Completed');
    assert.deepEqual(
      s.output,
      Array.from({ length: count }, () => size),
    );
    const results = s.history
      .filter((e: any) => e.EventType === 'TaskCompleted')
      .map((e: any) => e.Result.length);
    assert.deepEqual(
      results,
      Array.from({ length: count }, () => size),
    );
  } finally {
    await second.stop();
  }
});
