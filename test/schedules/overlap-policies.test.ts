import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { ENDED, eventually, history, publishFixture, runsOf } from './support';

/**
 * Each schedule's first run holds for ten minutes, so it is still going when the next occurrence comes.
 * skip records a skipped occurrence, allow starts a second run, cancelPrevious cancels the first run and
 * starts the second.
 */
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true });
  await publishFixture(sluice, 'tick');
});
after(async () => {
  if (!sluice) return;
  // Do not leave ten-minute steps behind.
  for (const r of await runsOf(sluice, 'tick').catch(() => []))
    if (!ENDED.includes(r.status))
      await sluice.api(`/api/runs/${r.runId}/cancel`, { method: 'POST' }).catch(() => {});
  await sluice.stop();
});

test('overlap skip, allow and cancelPrevious when the previous run is still running', async () => {
  for (const overlap of ['skip', 'allow', 'cancelPrevious'])
    await sluice.json('/api/schedules', {
      method: 'POST',
      body: {
        name: `overlap-${overlap.toLowerCase()}`,
        pipeline: 'tick',
        cron: '*/10 * * * * *',
        overlap,
        parameters: { hold: 600 },
      },
    });
  const names = ['overlap-skip', 'overlap-allow', 'overlap-cancelprevious'];

  await sluice.advanceClock(10_000);
  const firstRuns: Record<string, string> = {};
  for (const name of names) {
    const [e] = await eventually(`${name} first occurrence`, async () => {
      const h = await history(sluice, name);
      return h.some((x) => x.decision === 'started') && h;
    });
    firstRuns[name] = e!.runId!;
  }
  for (const name of names)
    await eventually(`${name}'s first run to be active`, async () => {
      const run = await sluice.json(`/api/runs/${firstRuns[name]}`);
      return ['Queued', 'Running'].includes(run.status);
    });

  await sluice.advanceClock(10_000);
  const second = async (name: string) =>
    eventually(`${name} second occurrence`, async () => {
      // `starting` is the claim an evaluator writes before it decides: wait for the decision itself.
      const h = (await history(sluice, name)).filter((x) => x.decision !== 'starting');
      return h.length >= 2 && h.sort((a, b) => (a.occurrence! < b.occurrence! ? -1 : 1))[1];
    });

  const skip = await second('overlap-skip');
  assert.equal(skip.decision, 'skipped');
  assert.match(skip.reason!, new RegExp(`${firstRuns['overlap-skip']} is still (Queued|Running)`));
  assert.equal(skip.runId, undefined);

  const allow = await second('overlap-allow');
  assert.equal(allow.decision, 'started');
  assert.notEqual(allow.runId, firstRuns['overlap-allow']);

  const cancel = await second('overlap-cancelprevious');
  assert.equal(cancel.decision, 'canceledPreviousAndStarted');
  assert.equal(cancel.canceledRunId, firstRuns['overlap-cancelprevious']);
  assert.notEqual(cancel.runId, firstRuns['overlap-cancelprevious']);
  const canceled = await eventually('the previous run to be canceled', async () => {
    const run = await sluice.json(`/api/runs/${firstRuns['overlap-cancelprevious']}`);
    return ENDED.includes(run.status) && run;
  });
  assert.equal(canceled.status, 'Canceled');

  const runs = await runsOf(sluice, 'tick');
  const count = (s: string) => runs.filter((r) => r.trigger.schedule === s).length;
  assert.equal(count('overlap-skip'), 1);
  assert.equal(count('overlap-allow'), 2);
  assert.equal(count('overlap-cancelprevious'), 2);
  // The allowed runs overlap: the first is still going.
  const firstAllowed = await sluice.json(`/api/runs/${firstRuns['overlap-allow']}`);
  assert.ok(['Queued', 'Running'].includes(firstAllowed.status));
});
