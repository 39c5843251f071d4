/**
 * Behaviour: callActivityWithRetry retries a failing activity with timers in between and succeeds on
 * the attempt that works; when attempts run out the orchestrator catches the last failure. The history
 * holds the exact id sequence durable-functions expects: attempt, retry timer, attempt, …, and a
 * zero-delay "dummy" timer after the last failed attempt (reference §3.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForFinish, useDurableHost } from './support/durable-host';

const h = useDurableHost();

test('succeeds on the third attempt after two retry timers', async () => {
  const id = await h.client.startNew('retrying', {
    input: { key: 'third-time', failTimes: 2, maxAttempts: 5, firstRetryMs: 20 },
  });
  const status = await waitForFinish(h.client, id);
  assert.equal(status.runtimeStatus, 'Completed');
  assert.deepEqual(status.output, { ok: true, attempts: 3 });
  const raw = await h.engine.historyOf(h.engine.instances.get(id)!);
  const scheduling = raw
    .filter((e) => e.EventType === 4 || e.EventType === 10)
    .map((e) => [e.EventType, e.EventId]);
  assert.deepEqual(scheduling, [
    [4, 0],
    [10, 1],
    [4, 2],
    [10, 3],
    [4, 4],
  ]);
  const fired = raw.filter((e) => e.EventType === 11).map((e) => e.TimerId);
  assert.deepEqual(fired, [1, 3]);
  const timers = raw.filter((e) => e.EventType === 10);
  for (const t of timers) {
    const created = Date.parse(t.Timestamp);
    assert.ok(Date.parse(t.FireAt!) >= created + 20, 'retry timers wait the first retry interval');
  }
});

test('when attempts run out, the failure surfaces after the dummy timer', async () => {
  const id = await h.client.startNew('retrying', {
    input: { key: 'never', failTimes: 99, maxAttempts: 2, firstRetryMs: 10 },
  });
  const status = await waitForFinish(h.client, id);
  assert.equal(status.runtimeStatus, 'Completed');
  assert.equal(status.output.ok, false);
  assert.match(status.output.message, /Activity function 'flaky' failed: flaky failure 2/);
  const raw = await h.engine.historyOf(h.engine.instances.get(id)!);
  const timers = raw.filter((e) => e.EventType === 10);
  assert.deepEqual(
    raw.filter((e) => e.EventType === 4 || e.EventType === 10).map((e) => [e.EventType, e.EventId]),
    [
      [4, 0],
      [10, 1],
      [4, 2],
      [10, 3],
    ],
  );
  // The dummy timer after the last attempt fires at once.
  assert.equal(Date.parse(timers[1]!.FireAt!), Date.parse(timers[1]!.Timestamp));
});
