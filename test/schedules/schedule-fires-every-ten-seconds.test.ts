import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { ENDED, eventually, history, publishFixture, runsOf } from './support';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true });
  await publishFixture(sluice, 'tick');
});
after(() => sluice?.stop());

test('a */10-second schedule starts one run per occurrence, each marked trigger: schedule', async () => {
  const created = await sluice.json('/api/schedules', {
    method: 'POST',
    body: { name: 'every-ten', pipeline: 'tick', cron: '*/10 * * * * *' },
  });
  const next: string[] = created.nextFireTimes;
  assert.equal(next.length, 5);
  assert.ok(Date.parse(next[0]!) > Date.parse(created.createdAt), 'nothing fires at creation');
  for (let i = 1; i < 5; i++) assert.equal(Date.parse(next[i]!) - Date.parse(next[i - 1]!), 10_000);

  // Nothing has run yet: creating a schedule never starts a run by itself.
  assert.deepEqual(await history(sluice, 'every-ten'), []);

  for (let n = 1; n <= 3; n++) {
    await sluice.advanceClock(10_000);
    const started = await eventually(`occurrence ${n} to start`, async () => {
      const h = (await history(sluice, 'every-ten')).filter((e) => e.decision === 'started');
      return h.length >= n && h;
    });
    // Let the run finish before the next occurrence so the default overlap policy (skip) does not apply.
    const runId = started.find((e) => e.occurrence === next[n - 1])?.runId;
    assert.ok(runId, `occurrence ${next[n - 1]} started a run`);
    await eventually(`run ${runId} to end`, async () => {
      const run = await sluice.json(`/api/runs/${runId}`);
      return ENDED.includes(run.status) && run;
    });
  }

  const runs = await runsOf(sluice, 'tick');
  assert.equal(runs.length, 3);
  const occurrences = runs.map((r) => r.trigger.occurrence).sort();
  assert.deepEqual(occurrences, next.slice(0, 3));
  for (const r of runs) {
    assert.equal(r.trigger.type, 'schedule');
    assert.equal(r.trigger.schedule, 'every-ten');
    assert.equal(r.status, 'Completed');
  }

  // An extra evaluation on demand (a second evaluator) finds nothing new to start.
  const again = await sluice.json('/api/schedules/every-ten/evaluate', { method: 'POST' });
  assert.deepEqual(again.outcomes, []);
  assert.equal((await runsOf(sluice, 'tick')).length, 3);
});
