import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { docsStep, publish, startRun, step, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('two runs needing the same parallelRun step at once run its mini-batches once; the second reuses them', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'shared-batches',
    steps: {
      make: docsStep(4),
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 2,
        command: `echo run >> ${JSON.stringify(journal)} && sleep 5 && cat $(cat \${{minibatch}}) > \${{outputs.scores}}`,
        outputs: { scores: { type: 'file' } },
      },
    },
  });
  const [a, b] = await Promise.all([startRun(sluice, 'shared-batches'), startRun(sluice, 'shared-batches')]);
  const [ra, rb] = await Promise.all([waitForRun(sluice, a), waitForRun(sluice, b)]);
  assert.equal(ra.status, 'Completed', JSON.stringify(ra.steps));
  assert.equal(rb.status, 'Completed', JSON.stringify(rb.steps));
  assert.equal(fs.readFileSync(journal, 'utf8').trim().split('\n').length, 2, 'two batches, run once');
  const statuses = [step(ra, 'score').status, step(rb, 'score').status].sort();
  assert.deepEqual(statuses, ['Completed', 'Reused']);
  assert.deepEqual(step(ra, 'score').outputs, step(rb, 'score').outputs);
  const follower = [ra, rb].map((r) => step(r, 'score')).find((s) => s.status === 'Reused')!;
  assert.match(follower.cache?.reason ?? '', /single-flight/, 'it waited for the other run’s batches');
});
