/**
 * Behaviour: orchestrator episodes of different instances run concurrently, but never more than
 * maxConcurrentOrchestratorFunctions (8 in the fixture's host.json), counted by the app's own
 * invocation hooks (which hold each episode for 5 ms so that overlaps happen).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
let h: DurableTestHost;
const g = globalThis as { __durableHookDelayMs?: number };
before(async () => {
  g.__durableHookDelayMs = 5; // each episode spends 5 ms in the app's preInvocation hook
  storage = await startTestAzurite();
  h = await startDurableHost(storage);
});
after(async () => {
  delete g.__durableHookDelayMs;
  await h?.stop();
  await storage?.stop();
});

test('60 instances at once: at most 8 episodes run together', async () => {
  await fetch(`${h.baseUrl}/api/orchestrator-peak`, { method: 'DELETE' });
  const ids = await Promise.all(
    Array.from({ length: 60 }, () => h.client.startNew('sequence', { input: { n: 3, activity: 'noop' } })),
  );
  for (const id of ids) assert.equal((await waitForFinish(h.client, id)).runtimeStatus, 'Completed');
  const { peak } = (await (await fetch(`${h.baseUrl}/api/orchestrator-peak`)).json()) as { peak: number };
  assert.ok(peak > 1, `episodes of different instances ran concurrently (peak ${peak})`);
  assert.ok(peak <= 8, `peak ${peak} exceeds maxConcurrentOrchestratorFunctions 8`);
});
