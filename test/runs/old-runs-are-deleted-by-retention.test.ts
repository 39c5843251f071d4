import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, stepCommand, tempJournal, waitFor, waitForRun } from './helpers';

const DAY = 86_400_000;

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice({ manualClock: true, env: { SLUICE_RUN_RETENTION_DAYS: '30' } });
});
after(() => sluice?.stop());

test('with SLUICE_RUN_RETENTION_DAYS the daily timer deletes finished runs past it and keeps younger ones', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'retained',
    steps: { make: { command: stepCommand('make', journal), outputs: { o: { type: 'file' } } } },
  });
  const old = await waitForRun(sluice, await startRun(sluice, 'retained'));
  assert.equal(old.status, 'Completed');

  await sluice.advanceClock(20 * DAY);
  const young = await waitForRun(sluice, await startRun(sluice, 'retained', { forceRerun: true }));
  assert.equal(step(young, 'make').status, 'Completed');

  // 35 days after the first run ended, 15 after the second: the daily timer has fired since.
  await sluice.advanceClock(15 * DAY);
  await waitFor('the old run to be deleted', async () =>
    (await sluice.api(`/api/runs/${old.runId}`)).status === 404 ? true : undefined,
  );
  assert.equal((await sluice.api(`/api/runs/${young.runId}`)).status, 200, 'the younger run stays');
});
