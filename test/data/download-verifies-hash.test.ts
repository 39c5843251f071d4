import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { getClients } from '../../lib/azure/clients';
import {
  ARTIFACTS_CONTAINER,
  blobName,
  materialize,
  openFile,
  putDirectory,
  putFile,
} from '../../lib/data/cas';
import { DataError } from '../../lib/data/errors';

let stack: TestStack;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-cas-verify-'));
});

after(async () => {
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('a corrupted blob fails its download instead of producing wrong bytes', async () => {
  await writeFile(join(tmp, 'model.bin'), 'the real weights');
  const file = await putFile(join(tmp, 'model.bin'));
  await writeFile(join(tmp, 'other.txt'), 'fine');
  const dir = await putDirectory(tmp);

  // Corrupt the stored bytes behind the store's back.
  await getClients()
    .blob.getContainerClient(ARTIFACTS_CONTAINER)
    .getBlockBlobClient(blobName(file.hash))
    .uploadData(Buffer.from('tampered weights'));

  const dest = join(tmp, 'out', 'model.bin');
  await assert.rejects(
    materialize(file.hash, 'file', dest),
    (e: unknown) => e instanceof DataError && e.code === 'integrity',
  );
  assert.equal(existsSync(dest), false, 'no partial or wrong file is left at the destination');

  await assert.rejects(
    materialize(dir.hash, 'directory', join(tmp, 'outdir')),
    (e: unknown) => e instanceof DataError && e.code === 'integrity',
  );

  const { stream } = await openFile(file.hash);
  await assert.rejects(
    (async () => {
      for await (const _ of stream) void _;
    })(),
    (e: unknown) => e instanceof DataError && e.code === 'integrity',
  );

  await assert.rejects(
    materialize('sha256:' + '0'.repeat(64), 'file', join(tmp, 'x')),
    (e: unknown) => e instanceof DataError && e.code === 'artifact-not-found',
  );
});
