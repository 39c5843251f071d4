import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('an output declaring a dataset becomes its next version when the step succeeds; a Reused rerun adds none', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'registers-output',
    steps: {
      train: {
        command: stepCommand('train', journal),
        outputs: { o: { type: 'file', dataset: 'trained-model' } },
      },
    },
  });

  const first = await waitForRun(sluice, await startRun(sluice, 'registers-output'));
  assert.equal(first.status, 'Completed', JSON.stringify(first.steps));
  const produced = step(first, 'train').outputs!.o!;
  const ds = await sluice.json<{
    version: number;
    hash: string;
    source: { kind: string; runId: string; step: string; output: string };
  }>('/api/datasets/trained-model/versions/latest');
  assert.equal(ds.version, 1);
  assert.equal(ds.hash, produced.hash);
  assert.deepEqual(ds.source, { kind: 'run', runId: first.runId, step: 'train', output: 'o' });

  const second = await waitForRun(sluice, await startRun(sluice, 'registers-output'));
  assert.equal(step(second, 'train').status, 'Reused');
  const again = await sluice.json<{ version: number }>('/api/datasets/trained-model/versions/latest');
  assert.equal(again.version, 1, 'the same content makes no new version');
});
