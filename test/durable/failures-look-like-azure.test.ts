/**
 * Behaviour: failures read like Azure's. An orchestrator that throws ends Failed with output
 * "Orchestrator function 'X' failed: …"; activity errors reach the orchestrator both as plain errors
 * (Reason/Details) and as TaskFailedError with FailureDetails when an exception properties provider
 * supplies properties; a refused callHttp fails the orchestration with the reason.
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
  storage = await startTestAzurite();
  h = await startDurableHost(storage);
});
after(async () => {
  await h?.stop();
  await storage?.stop();
});

test('an orchestrator that throws is Failed with the Azure message', async () => {
  const id = await h.client.startNew('fails');
  const s = await waitForFinish(h.client, id);
  assert.equal(s.runtimeStatus, 'Failed');
  assert.equal(s.output, "Orchestrator function 'fails' failed: boom");
  // The invocation line names the error, not the library's `false` prefix (issue 14, D9).
  // Core Tools' form: `Executed 'Functions.fails' (Failed, Id=…)` and then the whole exception.
  const line = h.log.lines.find((l) => l.includes("Executed 'Functions.fails' (Failed"));
  assert.ok(line, 'the failed invocation is logged');
  assert.match(line, /Orchestrator function 'fails' failed: boom/);
  assert.ok(!h.log.lines.some((l) => /Failed: (false|true)\b/.test(l)), 'no "Failed: false" line');
});

test('activity errors arrive with and without FailureDetails; uncaught ones fail the orchestration', async () => {
  const id = await h.client.startNew('activityFails');
  const s = await waitForFinish(h.client, id);
  assert.equal(s.runtimeStatus, 'Failed');
  assert.match(
    s.output,
    /^Orchestrator function 'activityFails' failed: Activity function 'throws' failed: uncaught failure/,
  );
  const caughtEvents = s.history.filter((e: any) => e.EventType === 'TaskFailed');
  assert.equal(caughtEvents.length, 3);
  assert.match(caughtEvents[0].Reason, /Activity function 'throws' failed: plain failure/);
  assert.equal(caughtEvents[1].FailureDetails.ErrorMessage, 'detailed failure');
  assert.deepEqual(caughtEvents[1].FailureDetails.Properties, { code: 'E_DETAIL' });
});

test('the orchestrator sees both failure shapes', async () => {
  const id = await h.client.startNew('activityFailsCaught');
  const s = await waitForFinish(h.client, id);
  assert.equal(s.runtimeStatus, 'Completed');
  assert.equal(s.output.plain.name, 'Error');
  assert.match(s.output.plain.message, /Activity function 'throws' failed: plain failure/);
  assert.equal(s.output.detailed.name, 'TaskFailedError');
  assert.match(s.output.detailed.message, /detailed failure/);
  assert.deepEqual(s.output.detailed.details.properties, { code: 'E_DETAIL' });
});

test('a refused callHttp fails the orchestration with the reason, at once', async () => {
  const id = await h.client.startNew('usesHttp');
  const s = await waitForFinish(h.client, id, 10_000);
  assert.equal(s.runtimeStatus, 'Failed');
  assert.match(s.output, /^Orchestrator function 'usesHttp' failed: /);
  assert.match(s.output, /callHttp GET http:\/\/127\.0\.0\.1:9\/nowhere failed/);
});

test('an entity registered by the app answers calls (entities are supported)', async () => {
  const id = await h.client.startNew('usesEntity');
  const s = await waitForFinish(h.client, id, 10_000);
  assert.equal(s.runtimeStatus, 'Completed', JSON.stringify(s));
  const res = await fetch(`${h.baseUrl}/durabletask/entities/tally/a`);
  assert.equal(res.status, 200);
  assert.equal(await res.json(), 1);
});

test('values beyond the storage limits fail clearly instead of breaking storage', async () => {
  const id = await h.client.startNew('hugeOutput');
  const s = await waitForFinish(h.client, id);
  assert.equal(s.runtimeStatus, 'Failed');
  assert.match(s.output, /^Orchestrator function 'hugeOutput' failed: the output is 500002 characters/);
  await assert.rejects(
    h.client.startNew('helloCities', { input: 'y'.repeat(500_000) }),
    /400.*at most 400000/,
  );
});
