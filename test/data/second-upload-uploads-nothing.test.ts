import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { getClients } from '../../lib/azure/clients';
import { ARTIFACTS_CONTAINER, clearHashCache, putDirectory, putStream } from '../../lib/data/cas';

let stack: TestStack;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-cas-dedupe-'));
});

after(async () => {
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function blobs(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const b of getClients().blob.getContainerClient(ARTIFACTS_CONTAINER).listBlobsFlat())
    out.set(b.name, `${b.properties.etag}|${b.properties.lastModified?.toISOString()}`);
  return out;
}

test('storing the same content again writes no blob', async () => {
  const dir = join(tmp, 'd');
  await mkdir(join(dir, 'sub'), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(dir, 'sub', `f${i}.txt`), `file ${i % 5}`); // duplicates inside
  await writeFile(join(dir, 'large.bin'), Buffer.alloc(6 * 1024 * 1024, 1));

  const first = await putDirectory(dir);
  assert.ok(first.uploadedBlobs > 0);
  assert.equal(first.uploadedBlobs, 5 + 1 + 1, 'five distinct small files, the large one, the manifest');
  const before = await blobs();
  assert.ok(![...before.keys()].some((k) => k.startsWith('tmp/')), 'no temporary blob is left behind');

  const second = await putDirectory(dir);
  assert.equal(second.hash, first.hash);
  assert.equal(second.uploadedBytes, 0);
  assert.equal(second.uploadedBlobs, 0);
  assert.deepEqual(await blobs(), before, 'no blob was rewritten');

  // Without cached hashes (a new process), local files are hashed first: still nothing is sent.
  clearHashCache();
  const cold = await putDirectory(dir);
  assert.equal(cold.uploadedBytes, 0);
  assert.equal(cold.uploadedBlobs, 0);
  assert.deepEqual(await blobs(), before);

  // A stream of existing content (nothing cached for streams) creates no blob either.
  const again = await putStream(createReadStream(join(dir, 'large.bin')));
  assert.equal(again.uploadedBlobs, 0);
  assert.deepEqual(await blobs(), before);
});
