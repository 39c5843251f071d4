import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a parallelRun over a file runs one job per miniBatchSize lines and appends their rows in order', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'score-lines',
    steps: {
      make: { command: 'seq 1 7 > ${{outputs.rows}}', outputs: { rows: { type: 'file' } } },
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.rows}}',
        miniBatchSize: 3,
        command: `echo run >> ${JSON.stringify(journal)} && awk '{ print $1 * 10 }' $(cat \${{minibatch}}) > \${{outputs.scores}}`,
        outputs: { scores: { type: 'file' } },
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'score-lines'));
  assert.equal(run.status, 'Completed', JSON.stringify(run.steps));
  assert.equal(fs.readFileSync(journal, 'utf8').trim().split('\n').length, 3, '3 + 3 + 1 lines');
  const text = await (await sluice.api(`/api/runs/${run.runId}/steps/score/outputs/scores`)).text();
  assert.equal(text, '10\n20\n30\n40\n50\n60\n70\n');
});
