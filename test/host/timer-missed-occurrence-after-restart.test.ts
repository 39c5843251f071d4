/**
 * Behaviour: with useMonitor (the default for schedules more than a minute apart) the schedule status
 * is kept in blob storage, so occurrences missed while the host was down fire exactly once, with
 * isPastDue true, when it starts again; the schedule then carries on normally.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { ManualClock, setClock } from '../../lib/host/clock';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, eventually, events, startBasicHost } from './support/host';

const clock = new ManualClock(Date.parse('2026-03-01T10:03:00Z'));
let storage: TestStorage;
before(async () => {
  setClock(clock);
  storage = await startTestStorage();
});
after(async () => {
  await storage?.stop();
});

test('a missed occurrence runs once, past due, after a restart', async () => {
  const first = await startBasicHost(storage, captureLog());
  try {
    await fetch(`${first.baseUrl}/admin/host/clock/advance?to=2026-03-01T10:05:00Z&wait=true`, {
      method: 'POST',
    });
    assert.equal((await events(first, 'tick')).length, 1);
  } finally {
    await first.stop();
  }

  const blob = BlobServiceClient.fromConnectionString(storage.connectionString)
    .getContainerClient('azure-webjobs-hosts')
    .getBlobClient('timers/sluice-fixture-basic/tick/status');
  const status = JSON.parse((await blob.downloadToBuffer()).toString()) as Record<string, string>;
  assert.equal(status.last, '2026-03-01T10:05:00.000Z');
  assert.equal(status.next, '2026-03-01T10:10:00.000Z');

  clock.set(Date.parse('2026-03-01T10:17:00Z')); // down through 10:10 and 10:15

  const log = captureLog();
  const second = await startBasicHost(storage, log);
  try {
    const ticks = await eventually(async () => {
      const t = await events(second, 'tick');
      return t.length >= 2 ? t : undefined;
    }, 'the past-due tick');
    // Let anything else that would wrongly fire get its chance before counting.
    await fetch(`${second.baseUrl}/admin/host/clock/advance?ms=0&wait=true`, { method: 'POST' });
    const after = await events(second, 'tick');
    assert.equal(after.length, 2, 'exactly one catch-up run');
    assert.equal(ticks[1]!.isPastDue, true);
    assert.equal((ticks[1]!.scheduleStatus as { next: string }).next, '2026-03-01T10:10:00.000Z');
    assert.ok(log.lines.some((l) => /Executed 'Functions\.tick' \(Succeeded, .*isPastDue/.test(l)));

    await fetch(`${second.baseUrl}/admin/host/clock/advance?to=2026-03-01T10:20:00Z&wait=true`, {
      method: 'POST',
    });
    const later = await events(second, 'tick');
    assert.equal(later.length, 3);
    assert.equal(later[2]!.isPastDue, false);
  } finally {
    await second.stop();
  }
});
