import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { getClients } from '../../lib/azure/clients';
import { materialize, readManifest } from '../../lib/data/cas';
import { registerBlobPath } from '../../lib/data/dataset-blob-path';
import { ProblemError } from '../../lib/errors/problem';

let stack: TestStack;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-ds-blob-'));
});

after(async () => {
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('registering an existing blob folder or blob stores its content and versions it', async () => {
  const raw = getClients().blob.getContainerClient('raw-data');
  await raw.createIfNotExists();
  await raw.getBlockBlobClient('events/2024/a.csv').uploadData(Buffer.from('a\n1\n'));
  await raw.getBlockBlobClient('events/2024/deep/b.csv').uploadData(Buffer.from('b\n2\n'));
  await raw.getBlockBlobClient('events-other/c.csv').uploadData(Buffer.from('not under the folder'));

  const dir = await registerBlobPath('events', 'raw-data/events');
  assert.equal(dir.created, true);
  assert.equal(dir.version.type, 'directory');
  assert.deepEqual(
    (await readManifest(dir.version.hash)).map((e) => e.path),
    ['2024/a.csv', '2024/deep/b.csv'],
  );
  await materialize(dir.version.hash, 'directory', join(tmp, 'events'));
  assert.equal(await readFile(join(tmp, 'events', '2024', 'deep', 'b.csv'), 'utf8'), 'b\n2\n');

  assert.equal(
    (await registerBlobPath('events', 'raw-data/events/')).created,
    false,
    'unchanged blobs: same version',
  );
  await raw.getBlockBlobClient('events/2024/a.csv').uploadData(Buffer.from('a\n1\n3\n'));
  const changed = await registerBlobPath('events', 'raw-data/events');
  assert.equal(changed.version.version, 2);

  const one = await registerBlobPath('single', 'raw-data/events/2024/a.csv');
  assert.equal(one.version.type, 'file');
  await materialize(one.version.hash, 'file', join(tmp, 'a.csv'));
  assert.equal(await readFile(join(tmp, 'a.csv'), 'utf8'), 'a\n1\n3\n');

  await assert.rejects(
    registerBlobPath('x', 'raw-data/nothing-here'),
    (e: unknown) => e instanceof ProblemError && e.status === 400 && e.errors?.[0]?.pointer === '/path',
  );
  await assert.rejects(
    registerBlobPath('x', 'azure-webjobs-secrets/host.json'),
    (e: unknown) => e instanceof ProblemError && e.status === 400 && /Functions runtime/.test(e.message),
  );
  await assert.rejects(
    registerBlobPath('x', 'no-such-container/a'),
    (e: unknown) => e instanceof ProblemError && e.status === 400,
  );
});
