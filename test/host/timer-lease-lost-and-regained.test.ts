/**
 * Behaviour: a host that loses a timer's listener lease (here: broken and taken by someone else, as
 * another host would after a long pause of this one) stops running that timer at its next renewal,
 * keeps trying, and runs it again once it gets the lease back — with the occurrence it missed run
 * once, past due.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { ManualClock, setClock } from '../../lib/host/clock';
import type { RunningHost } from '../../lib/host/index';
import { startTestStorage, type TestStorage } from './support/storage';
import { captureLog, eventually, events, startBasicHost, type CapturedLog } from './support/host';

const clock = new ManualClock(Date.parse('2026-03-01T10:01:30Z'));
let storage: TestStorage;
let host: RunningHost;
let log: CapturedLog;
before(async () => {
  setClock(clock);
  storage = await startTestStorage();
  log = captureLog();
  host = await startBasicHost(storage, log);
});
after(async () => {
  await host?.stop();
  await storage?.stop();
});

const tickLease = async (): Promise<string> => {
  const res = await fetch(`${host.baseUrl}/admin/host/status`);
  return ((await res.json()) as { timers: Record<string, string> }).timers.tick!;
};

test('a lost lease stops the timer here; regaining it resumes it with the missed occurrence once', async () => {
  assert.equal(await tickLease(), 'held');
  const blob = BlobServiceClient.fromConnectionString(storage.connectionString)
    .getContainerClient('azure-webjobs-hosts')
    .getBlobClient('locks/sluice-fixture-basic/Host.Functions.tick.Listener');
  await blob.getBlobLeaseClient().breakLease(0);
  const intruder = blob.getBlobLeaseClient();
  await intruder.acquireLease(60);

  await eventually(async () => ((await tickLease()) === 'waiting' ? true : undefined), 'the lease loss');
  assert.ok(log.lines.some((l) => /WARN Timer 'tick': lost its listener lease/.test(l)));

  await fetch(`${host.baseUrl}/admin/host/clock/advance?to=2026-03-01T10:05:00Z&wait=true`, {
    method: 'POST',
  });
  assert.equal((await events(host, 'tick')).length, 0, 'no run without the lease');

  await intruder.releaseLease();
  await eventually(async () => ((await tickLease()) === 'held' ? true : undefined), 'the lease back');
  const ticks = await eventually(async () => {
    const t = await events(host, 'tick');
    return t.length ? t : undefined;
  }, 'the past-due tick');
  await fetch(`${host.baseUrl}/admin/host/clock/advance?ms=0&wait=true`, { method: 'POST' });
  assert.equal((await events(host, 'tick')).length, 1, 'the missed occurrence ran once');
  assert.equal(ticks[0]!.isPastDue, true);
  assert.equal((ticks[0]!.scheduleStatus as { next: string }).next, '2026-03-01T10:05:00.000Z');

  await fetch(`${host.baseUrl}/admin/host/clock/advance?to=2026-03-01T10:10:00Z&wait=true`, {
    method: 'POST',
  });
  const later = await events(host, 'tick');
  assert.equal(later.length, 2);
  assert.equal(later[1]!.isPastDue, false);
});
