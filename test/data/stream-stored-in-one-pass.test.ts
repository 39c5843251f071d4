import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { getClients } from '../../lib/azure/clients';
import { ARTIFACTS_CONTAINER, exists, materialize, putStream } from '../../lib/data/cas';

let stack: TestStack;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-cas-stream-'));
});

after(async () => {
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('a stream longer than one block is stored under the hash of its bytes, with no temporary blob left', async () => {
  const chunks = Array.from({ length: 37 }, () => randomBytes(256 * 1024 + 7)); // ~9.3 MiB in odd sizes
  const expected = 'sha256:' + createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
  async function* source(): AsyncGenerator<Buffer> {
    for (const c of chunks) yield c;
  }
  const r = await putStream(source());
  assert.equal(r.hash, expected);
  assert.equal(
    r.size,
    chunks.reduce((n, c) => n + c.length, 0),
  );
  assert.equal(r.uploadedBlobs, 1);
  assert.equal(await exists(expected), true);

  const names: string[] = [];
  for await (const b of getClients().blob.getContainerClient(ARTIFACTS_CONTAINER).listBlobsFlat())
    names.push(b.name);
  assert.deepEqual(names, [`sha256/${expected.slice(7)}`]);

  await materialize(expected, 'file', join(tmp, 'out.bin'));
  assert.deepEqual(await readFile(join(tmp, 'out.bin')), Buffer.concat(chunks));
});
