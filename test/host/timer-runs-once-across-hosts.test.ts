/**
 * Behaviour: two hosts of one app on one storage account run each timer occurrence once, on the host
 * that holds the timer's listener lease (as Azure runs a timer on one instance); runOnStartup and the
 * useMonitor catch-up run only there. Another app's timer of the same name is not held back (leases
 * are per host ID). A graceful stop releases the leases, the other host takes over and runs the next
 * occurrences, and its own graceful stop leaves the leases released.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { OTHER_APP } from './support/storage';
import { eventually } from './support/host';
import {
  SINGLETON_APP,
  SINGLETON_HOST_ID,
  commonMinute,
  hostStatus,
  listenerLeaseState,
  moveClock,
  readRuns,
  startTimerHost,
  useTimerHostsScenario,
  type TimerRun,
} from './support/singleton';

const scenario = useTimerHostsScenario();
const hosts = scenario.hosts;

test('two hosts of one app: one run per occurrence, on the lease holder; a graceful stop hands over', async () => {
  const file = scenario.runsFile;
  const env = { AzureWebJobsStorage: scenario.storage.connectionString, SINGLETON_TIMER_LOG: file };

  // A missed occurrence in the stored schedule status: only the host that gets the lease catches it up.
  const missed = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000).toISOString();
  const status = JSON.stringify({ last: null, next: missed, lastUpdated: missed });
  const hostsContainer = BlobServiceClient.fromConnectionString(
    scenario.storage.connectionString,
  ).getContainerClient('azure-webjobs-hosts');
  await hostsContainer.createIfNotExists();
  await hostsContainer
    .getBlockBlobClient(`timers/${SINGLETON_HOST_ID}/heartbeat/status`)
    .upload(status, status.length);

  const a = await startTimerHost(SINGLETON_APP, env);
  hosts.push(a);
  const b = await startTimerHost(SINGLETON_APP, env);
  hosts.push(b);
  const other = await startTimerHost(OTHER_APP, {
    AzureWebJobsStorage: scenario.storage.connectionString,
    OTHER_STORAGE: scenario.storage.connectionString,
  });
  hosts.push(other);

  const sa = await hostStatus(a);
  assert.equal(sa.hostId, SINGLETON_HOST_ID);
  assert.deepEqual(sa.timers, { heartbeat: 'held', warmup: 'held' });
  assert.deepEqual((await hostStatus(b)).timers, { heartbeat: 'waiting', warmup: 'waiting' });
  const so = await hostStatus(other);
  assert.equal(so.hostId, 'other-app');
  assert.equal(so.timers.heartbeat, 'held', "another app's timer of the same name has its own lease");

  // Start-up: the holder ran warmup (runOnStartup) and the missed heartbeat, once each.
  await eventually(async () => (readRuns(file).length >= 2 ? true : undefined), 'the start-up runs');
  const t1 = await commonMinute([a, b]);
  const occurrences = [t1, t1 + 60_000, t1 + 120_000];
  for (const t of occurrences) await Promise.all([moveClock(a, t), moveClock(b, t)]);

  const row = (r: TimerRun) => [r.fn, r.pid, r.next, r.isPastDue];
  let runs = readRuns(file);
  // The two start-up runs may finish in either order; the occurrences follow, in order.
  assert.deepEqual(runs.slice(0, 2).map(row).sort(), [
    ['heartbeat', a.pid, missed, true],
    ['warmup', a.pid, null, false],
  ]);
  assert.deepEqual(
    runs.slice(2).map(row),
    occurrences.map((t) => ['heartbeat', a.pid, new Date(t).toISOString(), false]),
  );

  // The other app's heartbeat ran on its own host.
  await moveClock(other, (await commonMinute([other])) + 10_000);
  const otherState = await other.json<{ heartbeats: number }>('/v1/state');
  assert.equal(otherState.heartbeats, 1);

  // Graceful stop of the holder: it releases its leases, and the other host takes over.
  await a.stop();
  await eventually(
    async () => {
      const t = (await hostStatus(b)).timers;
      return t.heartbeat === 'held' && t.warmup === 'held' ? true : undefined;
    },
    'the second host to take the leases',
    60_000,
  );
  // Taking over starts the timers there: warmup runs (runOnStartup), heartbeat is not past due.
  await eventually(
    async () => (readRuns(file).some((r) => r.pid === b.pid) ? true : undefined),
    'warmup on the second host',
  );
  const t4 = t1 + 180_000;
  await moveClock(b, t4);

  // Its graceful stop leaves the leases released (available), not held until they expire.
  await b.stop();
  assert.equal(await listenerLeaseState(scenario.storage.connectionString, 'heartbeat'), 'available');
  assert.equal(await listenerLeaseState(scenario.storage.connectionString, 'warmup'), 'available');

  runs = readRuns(file).filter((r) => r.pid === b.pid);
  assert.deepEqual(
    runs.map((r) => [r.fn, r.next, r.isPastDue]),
    [
      ['warmup', null, false],
      ['heartbeat', new Date(t4).toISOString(), false],
    ],
  );
  const beats = readRuns(file).filter((r) => r.fn === 'heartbeat');
  assert.equal(new Set(beats.map((r) => r.next)).size, beats.length, 'no occurrence ran twice');
});
