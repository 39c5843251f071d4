/**
 * Behaviour: a durable timer fires when the (manual) clock reaches its due time and not before, and
 * currentUtcDateTime after the timer is the episode time at or after the due time. No real waiting.
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

const T0 = Date.parse('2026-05-01T08:00:00Z');
const clock = new ManualClock(T0);
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

test('a 30-minute timer fires only once the clock passes it', async () => {
  const id = await h.client.startNew('timer', { input: { minutes: 30 } });
  const waiting = await waitForStatus(h.client, id, (s) =>
    s.history?.some((e: any) => e.EventType === 'TimerCreated'),
  );
  assert.equal(waiting.runtimeStatus, 'Running');
  clock.advance(29 * 60_000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await h.client.getStatus(id)).runtimeStatus, 'Running', 'not due yet');
  await fetch(`${h.baseUrl}/admin/host/clock/advance?ms=${60_000}`, { method: 'POST' });
  const done = await waitForFinish(h.client, id);
  assert.equal(done.runtimeStatus, 'Completed');
  assert.equal(done.output.start, new Date(T0).toISOString());
  assert.ok(Date.parse(done.output.end) >= T0 + 30 * 60_000);
  const fired = done.history.filter((e: any) => e.EventType === 'TimerFired');
  assert.equal(fired.length, 1);
  assert.equal(fired[0].FireAt, new Date(T0 + 30 * 60_000).toISOString());
});
