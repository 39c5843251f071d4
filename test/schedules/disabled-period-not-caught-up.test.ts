import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, history, publishFixture, runsOf } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true });
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('occurrences while a schedule was disabled are not caught up, even with catchUp all', async () => {
  await sluice.json('/api/schedules', {
    method: 'POST',
    body: {
      name: 'paused',
      pipeline: 'tick',
      cron: '*/10 * * * * *',
      catchUp: 'all',
      overlap: 'allow',
      enabled: false,
    },
  });
  assert.deepEqual((await sluice.json('/api/schedules/paused')).nextFireTimes, []);
  await sluice.advanceClock(120_000); // twelve occurrences while disabled

  const enabled = await sluice.json('/api/schedules/paused', { method: 'PATCH', body: { enabled: true } });
  const next = enabled.nextFireTimes[0];
  assert.ok(Date.parse(next) > Date.parse(enabled.lastEvaluated), 'the next fire time is after re-enabling');

  await sluice.advanceClock(10_000);
  await eventually('the first occurrence after enabling', async () =>
    (await history(sluice, 'paused')).some((e) => e.decision === 'started'),
  );
  const h = await history(sluice, 'paused');
  assert.deepEqual(
    h.map((e) => [e.decision, e.occurrence]),
    [['started', next]],
  );
  assert.equal((await runsOf(sluice, 'tick')).length, 1);
});
