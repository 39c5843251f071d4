import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { startSluice, type SluiceProcess } from '../support/sluice';

let sluice: SluiceProcess;

before(async () => {
  sluice = await startSluice({ manualClock: true });
});

after(async () => {
  await sluice?.stop();
});

test('the hourly timer of the running host deletes a temp blob once the clock passes its TTL', async () => {
  const artifacts = BlobServiceClient.fromConnectionString(
    sluice.env.AzureWebJobsStorage!,
  ).getContainerClient('artifacts');
  await artifacts.createIfNotExists();
  const orphan = artifacts.getBlockBlobClient(`tmp/${randomUUID()}`);
  await orphan.uploadData(randomBytes(512));
  const stored = artifacts.getBlockBlobClient(`sha256/${'ab'.repeat(32)}`);
  await stored.uploadData(randomBytes(512));

  // Two hours: timers run, but the orphan is younger than the 6 h TTL.
  await sluice.advanceClock(2 * 3600_000);
  await sluice.waitForOutput(/artifacts: deleted 0 orphaned temporary blob\(s\).*kept 1 younger/, 30_000);
  assert.equal(await orphan.exists(), true);

  await sluice.advanceClock(6 * 3600_000);
  await sluice.waitForOutput(/artifacts: deleted 1 orphaned temporary blob\(s\)/, 30_000);
  assert.equal(await orphan.exists(), false);
  assert.equal(await stored.exists(), true);
});
