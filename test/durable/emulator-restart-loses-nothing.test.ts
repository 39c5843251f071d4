/**
 * Behaviour: when the storage emulator stops and comes back under a running host, the engine waits
 * with back-off, logs the outage, and every orchestration still completes with all its results.
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
before(async () => {
  storage = await startTestAzurite({ persistent: true });
  h = await startDurableHost(storage);
});
after(async () => {
  await h?.stop();
  await storage?.stop();
});

test('orchestrations survive an emulator restart', async () => {
  const N = 20;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await h.client.startNew('steps', { input: { n: N, ms: 25 } }));
  await new Promise((r) => setTimeout(r, 150));
  await storage.halt();
  await new Promise((r) => setTimeout(r, 1000));
  await storage.restart();
  for (const id of ids) {
    const s = await waitForFinish(h.client, id, 60_000);
    assert.equal(s.runtimeStatus, 'Completed');
    assert.deepEqual(
      s.output,
      Array.from({ length: N }, (_, i) => `${id}#${i}`),
    );
  }
  assert.ok(
    h.log.lines.some((l) => /storage unavailable/.test(l)),
    'the outage is logged',
  );
  assert.ok(
    h.log.lines.some((l) => /storage is back/.test(l)),
    'the recovery is logged',
  );
  // Committed state matches storage: a fresh engine on the same storage sees every instance Completed.
  await h.stop();
  h = await startDurableHost(storage);
  for (const id of ids) assert.equal((await h.client.getStatus(id)).runtimeStatus, 'Completed');
});
