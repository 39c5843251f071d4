import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, history, publishFixture } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true });
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('an occurrence whose run cannot start is recorded as failed with the reason, and the schedule moves on', async () => {
  await sluice.json('/api/schedules', {
    method: 'POST',
    body: { name: 'ghostly', pipeline: 'tick', cron: '*/10 * * * * *' },
  });
  // The pipeline is disabled after the schedule was made: its runs cannot start.
  await sluice.json('/api/pipelines/tick', { method: 'PATCH', body: { enabled: false } });
  for (let n = 1; n <= 2; n++) {
    await sluice.advanceClock(10_000);
    await eventually(
      `failure ${n}`,
      async () => (await history(sluice, 'ghostly')).filter((e) => e.decision === 'failed').length >= n,
    );
  }
  const failed = (await history(sluice, 'ghostly')).filter((e) => e.decision === 'failed');
  assert.equal(failed.length, 2, 'each occurrence is decided once, not retried forever');
  assert.notEqual(failed[0]!.occurrence, failed[1]!.occurrence);
  for (const f of failed) assert.match(f.reason!, /disabled/);
  const s = await sluice.json('/api/schedules/ghostly');
  assert.ok(Date.parse(s.lastEvaluated) >= Date.parse(failed[0]!.occurrence!));
});
