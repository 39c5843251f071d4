import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, readJournal, startRun, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a step that outlives its timeout is killed and fails with code timeout', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'too-slow',
    steps: {
      slow: {
        command: stepCommand('slow', journal, { sleep: 60_000 }),
        outputs: { o: { type: 'file' } },
        timeout: '2s',
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'too-slow'), 45_000);
  assert.equal(run.status, 'Failed');
  assert.equal(step(run, 'slow').status, 'Failed');
  assert.equal(step(run, 'slow').error?.code, 'timeout');
  assert.deepEqual(
    readJournal(journal).map((e) => e.what),
    ['start'],
  );
});
