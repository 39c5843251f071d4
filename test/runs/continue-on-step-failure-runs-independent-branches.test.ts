import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, starts, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('with continueOnStepFailure a failure skips only its own downstream; independent branches finish', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'fail-continue',
    steps: {
      bad: { command: stepCommand('bad', journal, { out: false, extra: '--exit 2' }) },
      good: { command: stepCommand('good', journal, { sleep: 1500 }), outputs: { o: { type: 'file' } } },
      after_bad: { command: stepCommand('after_bad', journal, { out: false }), after: ['bad'] },
      after_good: {
        command: stepCommand('after_good', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.good.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const run = await waitForRun(
    sluice,
    await startRun(sluice, 'fail-continue', { continueOnStepFailure: true }),
  );
  assert.equal(run.status, 'Failed', 'a run with a failed step fails, even when other branches finished');
  assert.equal(step(run, 'bad').status, 'Failed');
  assert.equal(step(run, 'after_bad').status, 'Skipped');
  assert.match(step(run, 'after_bad').error!.message, /bad/);
  assert.equal(step(run, 'good').status, 'Completed');
  assert.equal(step(run, 'after_good').status, 'Completed');
  assert.equal(starts(journal, 'after_good'), 1);
  assert.equal(starts(journal, 'after_bad'), 0);
});
