import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startHostProcess, startSluice, type SluiceProcess } from '../support/sluice';
import { eventually, history, publishFixture, runsOf } from './support';

/**
 * Two hosts on one stack, both with the schedule timer, both moved to the same instants; on top of that,
 * each is asked to evaluate on demand at the same time. Every occurrence still starts exactly one run.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
let a: SluiceProcess;
let b: SluiceProcess;
before(async () => {
  a = await startSluice({ manualClock: true });
  await publishFixture(a, 'tick');
  b = await startHostProcess(ROOT, { stack: false, env: a.env, manualClock: true, readyPath: '/api/health' });
});
after(async () => {
  await b?.stop();
  await a?.stop();
});

test('two hosts and duplicate evaluations start one run per occurrence', async () => {
  const s = await a.json('/api/schedules', {
    method: 'POST',
    body: { name: 'twice', pipeline: 'tick', cron: '*/10 * * * * *', overlap: 'allow' },
  });
  const occurrences: string[] = s.nextFireTimes.slice(0, 3);
  for (const occurrence of occurrences) {
    const to = new Date(Date.parse(occurrence) + 1000).toISOString();
    const move = (h: SluiceProcess) => h.api(`/admin/host/clock/advance?to=${to}`, { method: 'POST' });
    const evaluate = (h: SluiceProcess) => h.api('/api/schedules/twice/evaluate', { method: 'POST' });
    const answers = await Promise.all([move(a), move(b), evaluate(a), evaluate(b), evaluate(a), evaluate(b)]);
    for (const r of answers) assert.ok(r.ok, `${r.url}: ${r.status}`);
    await eventually(`occurrence ${occurrence}`, async () =>
      (await history(a, 'twice')).some((e) => e.occurrence === occurrence && e.decision === 'started'),
    );
  }
  const started = (await history(a, 'twice')).filter((e) => e.decision === 'started');
  assert.deepEqual(started.map((e) => e.occurrence).sort(), occurrences);
  const runs = (await runsOf(a, 'tick')).filter((r) => r.trigger.schedule === 'twice');
  assert.equal(runs.length, 3);
  assert.deepEqual(runs.map((r) => r.trigger.occurrence).sort(), occurrences);
  assert.equal(new Set(runs.map((r) => r.runId)).size, 3);
});
