import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a parallelRun step runs one job per mini-batch, gathers their rows in order, and is reused on a rerun', async () => {
  const journal = tempJournal();
  const files = Array.from({ length: 10 }, (_, i) => `f${i}`).join(' ');
  await publish(sluice, {
    name: 'batch-score',
    settings: { maxConcurrency: 2 },
    steps: {
      make: {
        command: `for f in ${files}; do echo row-$f > \${{outputs.docs}}/$f.csv; done`,
        outputs: { docs: { type: 'directory' } },
      },
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 3,
        command: `wc -l < \${{minibatch}} >> ${JSON.stringify(journal)} && cat $(cat \${{minibatch}}) > \${{outputs.scores}}`,
        outputs: { scores: { type: 'file' } },
      },
    },
  });

  const first = await waitForRun(sluice, await startRun(sluice, 'batch-score'));
  assert.equal(first.status, 'Completed', JSON.stringify(first.steps));
  const batchSizes = fs.readFileSync(journal, 'utf8').trim().split('\n').map(Number).sort();
  assert.deepEqual(batchSizes, [1, 3, 3, 3], 'four batch jobs: 3 + 3 + 3 + 1 files');

  const score = step(first, 'score') as ReturnType<typeof step> & { batches?: unknown };
  assert.deepEqual(score.batches, { total: 4, running: 0, succeeded: 4, failed: 0 });
  const scored = await sluice.api(`/api/runs/${first.runId}/steps/score/outputs/scores`);
  assert.equal(scored.status, 200);
  assert.equal(
    await scored.text(),
    Array.from({ length: 10 }, (_, i) => `row-f${i}\n`).join(''),
    'every row, in batch (path) order',
  );

  const second = await waitForRun(sluice, await startRun(sluice, 'batch-score'));
  assert.equal(second.status, 'Completed');
  assert.equal(step(second, 'score').status, 'Reused');
  assert.deepEqual(step(second, 'score').reusedFrom, { runId: first.runId, step: 'score' });
  assert.deepEqual(step(second, 'score').outputs, step(first, 'score').outputs);
  assert.equal(fs.readFileSync(journal, 'utf8').trim().split('\n').length, 4, 'no batch ran again');
});
