/**
 * Behaviour: a six-field NCRONTAB timer fires at each occurrence of the process clock; with a manual
 * clock, POST /admin/host/clock/advance moves time and the timer fires without waiting. Occurrences
 * passed in one jump run once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, setClock } from '../../lib/host/clock';
import type { RunningHost } from '../../lib/host/index';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, events, startBasicHost } from './support/host';

const START = Date.parse('2026-03-01T10:01:30Z');
let storage: TestStorage;
let host: RunningHost;
before(async () => {
  setClock(new ManualClock(START));
  storage = await startTestStorage();
  host = await startBasicHost(storage, captureLog());
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

const advance = async (query: string) => {
  const res = await fetch(`${host.baseUrl}/admin/host/clock/advance?${query}&wait=true`, { method: 'POST' });
  assert.equal(res.status, 200);
  return (await res.json()) as { now: string };
};

test('the timer fires once per occurrence as the clock passes it', async () => {
  const clock = (await (await fetch(`${host.baseUrl}/admin/host/clock`)).json()) as {
    now: string;
    manual: boolean;
  };
  assert.deepEqual(clock, { now: '2026-03-01T10:01:30.000Z', manual: true });

  await advance('ms=60000'); // 10:02:30 — before the first occurrence (10:05:00)
  assert.equal((await events(host, 'tick')).length, 0);

  await advance('to=2026-03-01T10:05:00Z');
  const first = await events(host, 'tick');
  assert.equal(first.length, 1);
  assert.equal(first[0]!.isPastDue, false);
  assert.equal((first[0]!.scheduleStatus as { next: string }).next, '2026-03-01T10:05:00.000Z');

  await advance('ms=299000'); // 10:09:59
  assert.equal((await events(host, 'tick')).length, 1);
  await advance('ms=1000'); // 10:10:00
  const second = await events(host, 'tick');
  assert.equal(second.length, 2);
  assert.equal((second[1]!.scheduleStatus as { last: string }).last, '2026-03-01T10:05:00.000Z');

  // One jump over twelve occurrences runs once, as the latest of them.
  await advance('ms=3600000'); // 11:10:00
  const third = await events(host, 'tick');
  assert.equal(third.length, 3);
  assert.equal((third[2]!.scheduleStatus as { next: string }).next, '2026-03-01T11:10:00.000Z');
});

test('bad clock moves are 400 problems naming the parameter', async () => {
  const res = await fetch(`${host.baseUrl}/admin/host/clock/advance?ms=soon`, { method: 'POST' });
  assert.equal(res.status, 400);
  const doc = (await res.json()) as { errors: Array<{ pointer: string }> };
  assert.equal(doc.errors[0]!.pointer, '/ms');
});
