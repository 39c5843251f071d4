/**
 * Behaviour: timer due times are persisted. A timer that fell due while the host was stopped fires when
 * a new host starts on the same storage, and the orchestration completes.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, setClock } from '../../lib/host/clock';
import {
  startDurableHost,
  startTestAzurite,
  waitForFinish,
  waitForStatus,
  type TestAzurite,
} from './support/durable-host';

const T0 = Date.parse('2026-05-02T08:00:00Z');
const clock = new ManualClock(T0);
let storage: TestAzurite;
before(async () => {
  setClock(clock);
  storage = await startTestAzurite();
});
after(async () => {
  await storage?.stop();
});

test('the overdue timer fires after restart', async () => {
  const first = await startDurableHost(storage);
  let id: string;
  try {
    id = await first.client.startNew('timer', { input: { minutes: 60 } });
    await waitForStatus(first.client, id, (s) => s.history?.some((e: any) => e.EventType === 'TimerCreated'));
  } finally {
    await first.stop();
  }
  clock.advance(3 * 60 * 60_000); // the host is down through the due time

  const second = await startDurableHost(storage);
  try {
    const done = await waitForFinish(second.client, id);
    assert.equal(done.runtimeStatus, 'Completed');
    assert.equal(done.output.start, new Date(T0).toISOString());
    assert.ok(Date.parse(done.output.end) >= T0 + 3 * 60 * 60_000, 'the episode runs at restart time');
    assert.equal(done.history.filter((e: any) => e.EventType === 'TimerFired').length, 1);
  } finally {
    await second.stop();
  }
});
