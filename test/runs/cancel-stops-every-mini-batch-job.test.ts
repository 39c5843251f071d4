import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import {
  docsStep,
  publish,
  readJournal,
  startRun,
  step,
  STEP_SCRIPT,
  tempJournal,
  waitFor,
  waitForRun,
} from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('canceling a run kills the process of every running mini-batch job of a parallelRun step', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'cancel-batches',
    settings: { maxConcurrency: 3 },
    steps: {
      make: docsStep(6),
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 2,
        command: `node ${JSON.stringify(STEP_SCRIPT)} --name batch --journal ${JSON.stringify(journal)} --sleep 120000 --in \${{minibatch}} --out \${{outputs.scores}}`,
        outputs: { scores: { type: 'file' } },
      },
    },
  });
  const runId = await startRun(sluice, 'cancel-batches');
  const started = await waitFor('three batch jobs to start', () => {
    const s = readJournal(journal).filter((e) => e.what === 'start');
    return s.length === 3 ? s : undefined;
  });

  assert.equal((await sluice.api(`/api/runs/${runId}/cancel`, { method: 'POST' })).status, 202);
  const run = await waitForRun(sluice, runId, 20_000);
  assert.equal(run.status, 'Canceled');
  assert.equal(step(run, 'score').status, 'Canceled');
  for (const s of started)
    await waitFor(
      `batch process ${s.pid} to die`,
      () => {
        try {
          process.kill(s.pid, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      15_000,
    );
  assert.equal(readJournal(journal).filter((e) => e.what === 'end').length, 0);
});
