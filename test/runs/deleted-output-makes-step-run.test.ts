import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlobServiceClient } from '@azure/storage-blob';
import { ARTIFACTS_CONTAINER, blobName } from '../../lib/data/cas';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, starts, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a step whose reusable outputs were deleted runs again; its unchanged dependants are still reused', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'deleted-output',
    steps: {
      make: { command: stepCommand('make', journal), outputs: { o: { type: 'file' } } },
      use: {
        command: stepCommand('use', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.make.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const first = await waitForRun(sluice, await startRun(sluice, 'deleted-output'));
  assert.equal(first.status, 'Completed');
  const hash = step(first, 'make').outputs!.o!.hash;

  const blobs = BlobServiceClient.fromConnectionString(sluice.env.AzureWebJobsStorage!);
  await blobs.getContainerClient(ARTIFACTS_CONTAINER).getBlobClient(blobName(hash)).delete();

  const second = await waitForRun(sluice, await startRun(sluice, 'deleted-output'));
  assert.equal(second.status, 'Completed');
  const make = step(second, 'make');
  assert.equal(make.status, 'Completed');
  assert.match(
    make.cache!.reason,
    new RegExp(`run ${first.runId} step make matched, but its outputs are gone \\(o\\)`),
  );
  assert.equal(make.outputs!.o!.hash, hash, 'the same bytes again');
  assert.equal(step(second, 'use').status, 'Reused', 'same input content, so the dependant is reused');
  assert.equal(starts(journal, 'make'), 2);
  assert.equal(starts(journal, 'use'), 1);
});
