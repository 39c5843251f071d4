/**
 * Behaviour: raiseEvent delivers external events; events raised before the orchestration waits for
 * them are buffered and consumed in order; Task.any picks the event over a pending timer; raising an
 * event on a finished instance is accepted silently (410) and on an unknown one is an error (404).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, setClock } from '../../lib/host/clock';
import {
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  waitForStatus,
  type DurableTestHost,
  type TestAzurite,
} from './support/durable-host';

const clock = new ManualClock(Date.parse('2026-05-03T08:00:00Z'));
let storage: TestAzurite;
let h: DurableTestHost;
before(async () => {
  setClock(clock);
  storage = await startTestAzurite();
  h = await startDurableHost(storage);
});
after(async () => {
  await h?.stop();
  await storage?.stop();
});

test('approval: the event wins over the timeout timer', async () => {
  const id = await h.client.startNew('approval', { input: { timeoutMinutes: 10 } });
  await waitForStatus(h.client, id, (s) => s.history?.some((e: any) => e.EventType === 'TimerCreated'));
  await h.client.raiseEvent(id, 'Approve', { by: 'ana' });
  const done = await waitForFinish(h.client, id);
  assert.deepEqual(done.output, { approved: { by: 'ana' } });
});

test('approval: the timer wins when nobody approves', async () => {
  const id = await h.client.startNew('approval', { input: { timeoutMinutes: 10 } });
  await waitForStatus(h.client, id, (s) => s.history?.some((e: any) => e.EventType === 'TimerCreated'));
  clock.advance(11 * 60_000);
  const done = await waitForFinish(h.client, id);
  assert.deepEqual(done.output, { approved: false, timedOut: true });
});

test('events raised before the waits are buffered and consumed by name', async () => {
  const id = await h.client.startNew('twoEvents');
  // Both arrive before (or while) the orchestration reaches its first wait, B before A.
  await h.client.raiseEvent(id, 'B', 'second');
  await h.client.raiseEvent(id, 'A', 'first');
  const done = await waitForFinish(h.client, id);
  assert.equal(done.runtimeStatus, 'Completed');
  assert.deepEqual(done.output, ['first', 'second']);
});

test('raising on a finished instance is accepted; on an unknown instance it fails', async () => {
  const id = await h.client.startNew('helloCities');
  await waitForFinish(h.client, id);
  await h.client.raiseEvent(id, 'Late', 1); // 410: resolves
  await assert.rejects(h.client.raiseEvent('no-such-instance', 'X', 1), /No instance with ID/);
});
