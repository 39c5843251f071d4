import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, starts, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('two concurrent runs that need the same step compute it once (single-flight)', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'single-flight',
    steps: {
      shared: { command: stepCommand('shared', journal, { sleep: 2500 }), outputs: { o: { type: 'file' } } },
    },
  });
  const [a, b] = await Promise.all([startRun(sluice, 'single-flight'), startRun(sluice, 'single-flight')]);
  const [ra, rb] = await Promise.all([waitForRun(sluice, a), waitForRun(sluice, b)]);
  assert.equal(ra.status, 'Completed');
  assert.equal(rb.status, 'Completed');
  assert.equal(starts(journal, 'shared'), 1, 'the step process ran once');
  const statuses = [step(ra, 'shared').status, step(rb, 'shared').status].sort();
  assert.deepEqual(statuses, ['Completed', 'Reused']);
  const reused = step(ra, 'shared').status === 'Reused' ? ra : rb;
  const computed = reused === ra ? rb : ra;
  assert.deepEqual(step(reused, 'shared').reusedFrom, { runId: computed.runId, step: 'shared' });
  assert.deepEqual(step(reused, 'shared').outputs, step(computed, 'shared').outputs);
});
