/**
 * Behaviour: Task.all over many activities completes with every result, and activities run
 * concurrently but never more than maxConcurrentActivityFunctions (8 in the fixture's host.json).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  readLines,
  startDurableHost,
  startTestAzurite,
  tempLogFile,
  waitForFinish,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

let storage: TestAzurite;
let h: DurableTestHost;
const log = tempLogFile();
before(async () => {
  storage = await startTestAzurite();
  h = await startDurableHost(storage, { env: { DURABLE_FIXTURE_LOG: log } });
});
after(async () => {
  await h?.stop();
  await storage?.stop();
});

test('fan-out of 200 echo activities returns 200 results', async () => {
  const id = await h.client.startNew('fanOut', { input: { n: 200 } });
  const status = await waitForFinish(h.client, id);
  assert.equal(status.runtimeStatus, 'Completed');
  assert.equal(status.output, 200);
});

test('at most 8 activities run at once, and more than one does', async () => {
  const id = await h.client.startNew('fanOutSteps', { input: { n: 24, ms: 40 } });
  const status = await waitForFinish(h.client, id);
  assert.equal(status.runtimeStatus, 'Completed');
  let running = 0;
  let peak = 0;
  for (const line of readLines(log)) {
    if (line.startsWith('start ')) peak = Math.max(peak, ++running);
    else if (line.startsWith('done ')) running--;
  }
  assert.ok(peak <= 8, `peak concurrency ${peak} exceeds the limit of 8`);
  assert.ok(peak > 1, `activities ran one at a time (peak ${peak})`);
  assert.equal(readLines(log).filter((l) => l.startsWith('done ')).length, 24);
});
