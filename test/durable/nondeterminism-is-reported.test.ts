/**
 * Behaviour: when the orchestrator code changes under a running instance so that replay produces a
 * different action than the history recorded, the instance fails with a clear nondeterminism message
 * instead of silently continuing on a mismatched history.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  waitForStatus,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
let h: DurableTestHost;
before(async () => {
  storage = await startTestAzurite();
  h = await startDurableHost(storage);
});
after(async () => {
  delete process.env.DURABLE_FIXTURE_VARIANT;
  await h?.stop();
  await storage?.stop();
});

test('a changed activity name is reported as nondeterminism', async () => {
  process.env.DURABLE_FIXTURE_VARIANT = 'A';
  const id = await h.client.startNew('drifting');
  await waitForStatus(h.client, id, (s) => s.history?.some((e: any) => e.EventType === 'TaskCompleted'));
  // "deploy" different code (episodes run on worker threads, which share the environment)
  process.env.DURABLE_FIXTURE_VARIANT = 'B';
  await h.client.raiseEvent(id, 'go', true);
  const s = await waitForFinish(h.client, id);
  assert.equal(s.runtimeStatus, 'Failed');
  assert.match(s.output, /^Orchestrator function 'drifting' failed: Non-deterministic workflow detected/);
  assert.match(s.output, /an activity call 'echo'/);
  assert.match(s.output, /an activity call 'hello'/);
});
