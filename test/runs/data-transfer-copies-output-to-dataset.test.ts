import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, starts, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a dataTransfer step registers an upstream output as a dataset version, and a rerun reuses it', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'transfer-out',
    steps: {
      score: { command: stepCommand('score', journal), outputs: { o: { type: 'file' } } },
      publish: { kind: 'dataTransfer', source: '${{steps.score.outputs.o}}', destination: 'scores-out' },
      check: {
        command: stepCommand('check', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.publish.outputs.data}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });

  const first = await waitForRun(sluice, await startRun(sluice, 'transfer-out'));
  assert.equal(first.status, 'Completed', JSON.stringify(first.steps));
  const copied = step(first, 'publish');
  assert.equal(copied.status, 'Completed');
  assert.equal(copied.cache?.reason, 'no earlier execution of this step');
  const produced = step(first, 'score').outputs!.o!;
  assert.equal(copied.outputs?.data?.hash, produced.hash, 'the copy has the content of the source');
  assert.equal(
    step(first, 'check').status,
    'Completed',
    'a step downstream of the transfer runs on its data',
  );

  const ds = await sluice.json<{ version: number; hash: string; type: string }>(
    '/api/datasets/scores-out/versions/latest',
  );
  assert.equal(ds.version, 1);
  assert.equal(ds.hash, produced.hash);
  assert.equal(ds.type, 'file');

  const second = await waitForRun(sluice, await startRun(sluice, 'transfer-out'));
  assert.equal(second.status, 'Completed');
  for (const name of ['score', 'publish', 'check']) {
    assert.equal(step(second, name).status, 'Reused', name);
    assert.deepEqual(step(second, name).reusedFrom, { runId: first.runId, step: name });
  }
  assert.equal(starts(journal, 'score'), 1);
  const again = await sluice.json<{ version: number }>('/api/datasets/scores-out/versions/latest');
  assert.equal(again.version, 1, 'no new dataset version for the same content');

  // The cache key covers the destination: a new destination runs the transfer, not the producer.
  await publish(sluice, {
    name: 'transfer-out',
    steps: {
      score: { command: stepCommand('score', journal), outputs: { o: { type: 'file' } } },
      publish: { kind: 'dataTransfer', source: '${{steps.score.outputs.o}}', destination: 'scores-other' },
    },
  });
  const third = await waitForRun(sluice, await startRun(sluice, 'transfer-out'));
  assert.equal(step(third, 'score').status, 'Reused');
  assert.equal(step(third, 'publish').status, 'Completed');
  assert.match(step(third, 'publish').cache?.reason ?? '', /scores-other/);
  const other = await sluice.json<{ hash: string }>('/api/datasets/scores-other/versions/latest');
  assert.equal(other.hash, produced.hash);
});
