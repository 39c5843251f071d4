import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, history, publishFixture, runsOf } from './support';

/**
 * The host is down across ten once-a-minute occurrences and comes back 30 s after the last one, so no
 * occurrence is on time (grace set to 20 s here). Each catchUp policy decides what runs; the history says why.
 */
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true, env: { SLUICE_SCHEDULE_GRACE_SECONDS: '20' } });
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('after downtime, catchUp none runs nothing, latest runs the last occurrence, all runs the last catchUpLimit', async () => {
  const make = (name: string, catchUp: string) =>
    sluice.json('/api/schedules', {
      method: 'POST',
      body: { name, pipeline: 'tick', cron: '0 * * * * *', overlap: 'allow', catchUp, catchUpLimit: 5 },
    });
  const none = await make('catch-none', 'none');
  await make('catch-latest', 'latest');
  await make('catch-all', 'all');
  const first = Date.parse(none.nextFireTimes[0]);
  const minute = (i: number) => new Date(first + (i - 1) * 60_000).toISOString(); // occurrence i, from 1

  // Downtime: the host stops, and when it is back its clock is 30 s past the 10th occurrence.
  await sluice.restart();
  const { now } = await sluice.json('/admin/host/clock');
  const target = first + 9 * 60_000 + 30_000;
  await sluice.advanceClock(target - Date.parse(now));

  const settled = async (name: string, decisions: number) =>
    eventually(`${name} to decide`, async () => {
      // `starting` is an evaluator's claim before it decides: count decisions only.
      const h = (await history(sluice, name)).filter((e) => e.decision !== 'starting');
      return h.length >= decisions && h;
    });

  const hNone = await settled('catch-none', 1);
  assert.deepEqual(
    hNone.map((e) => [e.decision, e.occurrence, e.until, e.count]),
    [['missed', minute(1), minute(10), 10]],
  );
  assert.match(hNone[0]!.reason!, /catchUp is "none"/);

  const hLatest = await settled('catch-latest', 2);
  const startedLatest = hLatest.filter((e) => e.decision === 'started');
  assert.deepEqual(
    startedLatest.map((e) => [e.occurrence, e.late]),
    [[minute(10), true]],
  );
  const missedLatest = hLatest.find((e) => e.decision === 'missed')!;
  assert.deepEqual(
    [missedLatest.occurrence, missedLatest.until, missedLatest.count],
    [minute(1), minute(9), 9],
  );

  const hAll = await settled('catch-all', 6);
  const startedAll = hAll
    .filter((e) => e.decision === 'started')
    .map((e) => e.occurrence)
    .sort();
  assert.deepEqual(startedAll, [minute(6), minute(7), minute(8), minute(9), minute(10)]);
  const missedAll = hAll.find((e) => e.decision === 'missed')!;
  assert.deepEqual([missedAll.occurrence, missedAll.until, missedAll.count], [minute(1), minute(5), 5]);
  assert.match(missedAll.reason!, /catchUpLimit \(5\)/);

  // The runs themselves: one per started occurrence, each naming its schedule and occurrence.
  const runs = await runsOf(sluice, 'tick');
  const bySchedule = (s: string) =>
    runs
      .filter((r) => r.trigger.schedule === s)
      .map((r) => r.trigger.occurrence)
      .sort();
  assert.deepEqual(bySchedule('catch-none'), []);
  assert.deepEqual(bySchedule('catch-latest'), [minute(10)]);
  assert.deepEqual(bySchedule('catch-all'), startedAll);

  // Nothing more is due until the 11th occurrence; the next fire time says so.
  const after = await sluice.json('/api/schedules/catch-all');
  assert.equal(after.nextFireTimes[0], minute(11));
});
