import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import {
  publish,
  readJournal,
  startRun,
  starts,
  step,
  stepCommand,
  tempJournal,
  waitFor,
  waitForRun,
} from './helpers';

let sluice: SluiceProcess;
before(async () => {
  // A short lost threshold: the step interrupted with the host is detected within seconds.
  sluice = await startSluice({ env: { SLUICE_LOST_AFTER_MS: '3000' } });
});
after(() => sluice?.stop());

test('SIGKILL of the host mid-run, then a restart: the run completes and completed steps do not run again', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'survive-kill',
    steps: {
      first: { command: stepCommand('first', journal), outputs: { o: { type: 'file' } } },
      middle: {
        command: stepCommand('middle', journal, { ins: ['x'], sleep: 4000 }),
        inputs: { x: '${{steps.first.outputs.o}}' },
        outputs: { o: { type: 'file' } },
        retries: 2,
      },
      last: {
        command: stepCommand('last', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.middle.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const runId = await startRun(sluice, 'survive-kill');
  await waitFor('the middle step to start', () =>
    readJournal(journal).find((e) => e.name === 'middle' && e.what === 'start'),
  );
  await sluice.kill('SIGKILL');
  await sluice.restart();

  const run = await waitForRun(sluice, runId, 120_000);
  assert.equal(run.status, 'Completed', JSON.stringify(run));
  assert.equal(starts(journal, 'first'), 1, 'the completed step did not execute again');
  assert.equal(starts(journal, 'last'), 1);
  assert.ok(starts(journal, 'middle') >= 1);
  assert.equal(step(run, 'middle').status, 'Completed');
});
