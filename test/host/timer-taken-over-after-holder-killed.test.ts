/**
 * Behaviour: when the host that holds a timer's listener lease is killed (SIGKILL: no release), the
 * lease expires and another host of the app takes it over: it runs the occurrence the dead host missed
 * once, past due (useMonitor), runOnStartup, and the later occurrences. No occurrence runs twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from './support/host';
import {
  SINGLETON_APP,
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

test('SIGKILL of the lease holder: the other host takes over and runs the later occurrences', async () => {
  const file = scenario.runsFile;
  const env = { AzureWebJobsStorage: scenario.storage.connectionString, SINGLETON_TIMER_LOG: file };
  const a = await startTimerHost(SINGLETON_APP, env);
  hosts.push(a);
  const b = await startTimerHost(SINGLETON_APP, env);
  hosts.push(b);
  assert.equal((await hostStatus(a)).timers.heartbeat, 'held');
  assert.equal((await hostStatus(b)).timers.heartbeat, 'waiting');

  const t1 = await commonMinute([a, b]);
  await Promise.all([moveClock(a, t1), moveClock(b, t1)]);
  const iso = (t: number) => new Date(t).toISOString();
  assert.deepEqual(
    readRuns(file)
      .filter((r) => r.fn === 'heartbeat')
      .map((r) => [r.pid, r.next]),
    [[a.pid, iso(t1)]],
  );

  await a.kill('SIGKILL');
  // The dead host's next occurrence (t1 + 1 min) and one more pass while nobody holds the lease.
  const t3 = t1 + 120_000;
  await moveClock(b, t3 + 30_000);
  await eventually(
    async () => ((await hostStatus(b)).timers.heartbeat === 'held' ? true : undefined),
    'the lease to expire and the second host to take it',
    90_000,
  );
  // Taking over runs the missed occurrence once, past due (as a restart would), and warmup.
  const fromB = async (n: number) =>
    eventually(async () => {
      const r = readRuns(file).filter((x) => x.pid === b.pid);
      return r.length >= n ? r : undefined;
    }, `${n} runs on the second host`);
  await fromB(2);
  await moveClock(b, t3 + 30_000); // idle: anything else due has run
  const row = (r: TimerRun) => [r.fn, r.next, r.isPastDue];
  assert.deepEqual(
    readRuns(file)
      .filter((r) => r.pid === b.pid)
      .map(row)
      .sort(),
    [
      ['heartbeat', iso(t1 + 60_000), true],
      ['warmup', null, false],
    ],
  );

  const t4 = t1 + 180_000;
  await moveClock(b, t4);
  const runsB = await fromB(3);
  assert.deepEqual(row(runsB[2]!), ['heartbeat', iso(t4), false]);

  await b.stop();
  assert.equal(await listenerLeaseState(scenario.storage.connectionString, 'heartbeat'), 'available');
  const beats = readRuns(file).filter((r) => r.fn === 'heartbeat');
  assert.deepEqual(
    beats.map((r) => r.next),
    [iso(t1), iso(t1 + 60_000), iso(t4)],
    'each occurrence once; the two missed while nobody held the lease ran once, as the first of them',
  );
});
