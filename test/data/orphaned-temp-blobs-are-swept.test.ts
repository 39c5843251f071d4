import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestStack, type TestStack } from '../support/stack';
import { getClients } from '../../lib/azure/clients';
import { ARTIFACTS_CONTAINER, BLOCK_SIZE, TMP_PREFIX, blobName, exists, putStream } from '../../lib/data/cas';
import { sweepTmpBlobs } from '../../lib/data/tmp-sweep';

let stack: TestStack;

before(async () => {
  stack = await startTestStack();
});

after(async () => {
  await stack?.stop();
});

const TTL = 6 * 3600_000;

function artifacts() {
  return getClients().blob.getContainerClient(ARTIFACTS_CONTAINER);
}

async function tmpNames(includeUncommitted = false): Promise<string[]> {
  const names: string[] = [];
  for await (const b of artifacts().listBlobsFlat({
    prefix: TMP_PREFIX,
    includeUncommitedBlobs: includeUncommitted,
  }))
    names.push(b.name);
  return names.sort();
}

/** A committed temp blob, as a process killed between commit and copy leaves it. */
async function orphan(name = `${TMP_PREFIX}${randomUUID()}`): Promise<{ name: string; modified: number }> {
  const blob = artifacts().getBlockBlobClient(name);
  await blob.uploadData(randomBytes(1024));
  const p = await blob.getProperties();
  return { name, modified: p.lastModified!.getTime() };
}

test('the sweep deletes temp blobs past the TTL and keeps fresh temps, uploads in progress and stored content', async () => {
  // Stored content: one streamed through a temp (more than a block), one small.
  const big = randomBytes(BLOCK_SIZE + 100_000);
  const stored = await putStream(Readable.from([big]));
  const small = await putStream(Readable.from([Buffer.from('small content')]));
  assert.deepEqual(await tmpNames(), []);

  // An upload in progress: two blocks staged on its temp, the rest not yet read from its source.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const parts = [randomBytes(BLOCK_SIZE), randomBytes(BLOCK_SIZE), randomBytes(1000), randomBytes(2000)];
  const expected = 'sha256:' + createHash('sha256').update(Buffer.concat(parts)).digest('hex');
  async function* slowSource(): AsyncGenerator<Buffer> {
    yield parts[0]!;
    yield parts[1]!;
    yield parts[2]!;
    await gate;
    yield parts[3]!;
  }
  const inProgress = putStream(slowSource());
  let staging: string[] = [];
  for (let i = 0; i < 200 && staging.length === 0; i++) {
    staging = await tmpNames(true);
    if (!staging.length) await sleep(50);
  }
  assert.equal(staging.length, 1, 'the upload in progress staged blocks on a temp');

  // Two orphans whose last-modified times differ (one-second resolution): the older past the TTL.
  const old = await orphan();
  let fresh = await orphan();
  while (fresh.modified <= old.modified) {
    await sleep(250);
    fresh = await orphan(fresh.name);
  }

  const first = await sweepTmpBlobs({ olderThanMs: TTL, now: fresh.modified + TTL });
  assert.equal(first.deleted, 1);
  assert.equal(first.kept, 1);
  assert.deepEqual(await tmpNames(), [fresh.name]);

  // However far time moves, blocks of an upload in progress are not a blob the sweep can delete.
  const later = await sweepTmpBlobs({ olderThanMs: TTL, now: Date.now() + 30 * 24 * 3600_000 });
  assert.equal(later.deleted, 1);
  assert.deepEqual(await tmpNames(), []);
  assert.deepEqual(await tmpNames(true), staging);

  release();
  const done = await inProgress;
  assert.equal(done.hash, expected);
  assert.equal(done.uploadedBlobs, 1);
  assert.equal(await exists(expected), true);
  assert.deepEqual(await tmpNames(true), []);

  // Content-addressed blobs are never candidates.
  for (const h of [stored.hash, small.hash]) assert.equal(await exists(h), true);
  const back = await artifacts().getBlockBlobClient(blobName(stored.hash)).downloadToBuffer();
  assert.deepEqual(back, big);
});
