/**
 * Behaviour: orchestrator episodes of different instances run concurrently, but never more than
 * maxConcurrentOrchestratorFunctions (8 in the fixture's host.json), counted by the app's own
 * invocation hooks (which hold each episode for 20 ms so that overlaps happen) in a file, since episodes
 * run on worker threads.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-durable-peak-'));
let storage: TestAzurite;
let h: DurableTestHost;
before(async () => {
  storage = await startTestAzurite();
  h = await startDurableHost(storage, {
    env: {
      // each episode spends 20 ms in the app's preInvocation hook (long enough that two workers overlap
      // even on a loaded 2-core machine)
      DURABLE_FIXTURE_HOOK_DELAY_MS: '20',
      DURABLE_FIXTURE_PEAK_FILE: path.join(tempDir(), 'peak.log'),
    },
  });
});
after(async () => {
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
