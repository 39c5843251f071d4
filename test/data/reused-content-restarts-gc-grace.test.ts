import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestStack, type TestStack } from '../support/stack';
import { getClients } from '../../lib/azure/clients';
import { ManualClock, getClock, setClock, type Clock } from '../../lib/host/clock';
import { ARTIFACTS_CONTAINER, REFRESH_AFTER_MS, blobName, exists, putStream } from '../../lib/data/cas';
import { registerUpload } from '../../lib/data/dataset-upload';
import { collectGarbage } from '../../lib/data/gc';

let stack: TestStack;
let previousClock: Clock;
const clock = new ManualClock();

before(async () => {
  stack = await startTestStack();
  previousClock = getClock();
  setClock(clock);
});

after(async () => {
  setClock(previousClock);
  await stack?.stop();
});

const GRACE = 3600_000;

async function props(hash: string): Promise<{ etag: string; modified: number }> {
  const p = await getClients()
    .blob.getContainerClient(ARTIFACTS_CONTAINER)
    .getBlockBlobClient(blobName(hash))
    .getProperties();
  return { etag: p.etag!, modified: p.lastModified!.getTime() };
}

test('a writer reusing stored content that is old and unreferenced refreshes it, so a GC keeps it until the reference is recorded', async () => {
  const bytes = randomBytes(5000);
  const stored = await putStream(Readable.from([bytes]));
  const before = await props(stored.hash);

  // Reused while still fresh: nothing is rewritten.
  await putStream(Readable.from([bytes]));
  assert.equal((await props(stored.hash)).etag, before.etag);

  // Later it is old and unreferenced: a GC now would collect it.
  clock.set(before.modified + 1000 + GRACE);
  assert.ok(clock.now() - before.modified > REFRESH_AFTER_MS);
  const dry = await collectGarbage({ dryRun: true, graceMs: GRACE });
  assert.deepEqual(
    dry.collected.map((b) => b.hash),
    [stored.hash],
  );

  // A writer that finds the bytes stored refreshes the blob before relying on it (uploading nothing),
  // which moves its last-modified second past the cut-off: the same GC now keeps it.
  await sleep(Math.max(0, before.modified + 2100 - Date.now()));
  const again = await putStream(Readable.from([bytes]));
  assert.equal(again.uploadedBytes, 0);
  const refreshed = await props(stored.hash);
  assert.notEqual(refreshed.etag, before.etag);
  assert.ok(refreshed.modified > before.modified);
  const kept = await collectGarbage({ dryRun: true, graceMs: GRACE });
  assert.deepEqual(kept.collected, []);
  assert.equal(kept.keptYoung, 1);

  // A dataset registration takes the same path, and its version then references the content.
  const reg = await registerUpload('gc-reused', Readable.from([bytes]), 'application/octet-stream');
  assert.equal(reg.version.hash, stored.hash);
  clock.advance(30 * 24 * 3600_000);
  const real = await collectGarbage({ graceMs: GRACE });
  assert.equal(real.deleted, 0);
  assert.equal(real.marked, 1);
  assert.equal(await exists(stored.hash), true);
});
