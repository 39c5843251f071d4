import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { ARTIFACTS_CONTAINER, blobName } from '../../lib/data/cas';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a dataTransfer whose source content is gone from the store fails missing-input, naming it', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'transfer-make',
    steps: {
      make: { command: stepCommand('make', journal), outputs: { o: { type: 'file' } } },
      keep: { kind: 'dataTransfer', source: '${{steps.make.outputs.o}}', destination: 'made' },
    },
  });
  const first = await waitForRun(sluice, await startRun(sluice, 'transfer-make'));
  assert.equal(first.status, 'Completed', JSON.stringify(first.steps));
  const hash = step(first, 'keep').outputs!.data!.hash;

  const blobs = BlobServiceClient.fromConnectionString(sluice.env.AzureWebJobsStorage!);
  await blobs.getContainerClient(ARTIFACTS_CONTAINER).getBlobClient(blobName(hash)).delete();

  await publish(sluice, {
    name: 'transfer-copy',
    steps: { copy: { kind: 'dataTransfer', source: 'made@1', destination: 'made-copy' } },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'transfer-copy'));
  assert.equal(run.status, 'Failed');
  const copy = step(run, 'copy');
  assert.equal(copy.status, 'Failed');
  assert.equal(copy.error?.code, 'missing-input');
  assert.match(copy.error?.message ?? '', /could not copy its source to dataset "made-copy"/);
  assert.match(copy.error?.message ?? '', new RegExp(hash));
  const missing = await fetch(`${sluice.baseUrl}/api/datasets/made-copy`);
  assert.equal(missing.status, 404, 'nothing was registered');
});
