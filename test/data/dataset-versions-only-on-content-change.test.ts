import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { startTestStack, type TestStack } from '../support/stack';
import { registerUpload } from '../../lib/data/dataset-upload';
import { getDataset, resolveDatasetRef } from '../../lib/data/datasets';
import { ProblemError } from '../../lib/errors/problem';

let stack: TestStack;

before(async () => {
  stack = await startTestStack();
});

after(async () => {
  await stack?.stop();
});

const body = (s: string): Readable => Readable.from([Buffer.from(s)]);

test('a dataset gets a new version only when its content hash changes', async () => {
  const v1 = await registerUpload('churn', body('id,label\n1,0\n'), 'text/csv');
  assert.equal(v1.created, true);
  assert.equal(v1.version.version, 1);

  const same = await registerUpload('churn', body('id,label\n1,0\n'), 'text/csv');
  assert.equal(same.created, false);
  assert.equal(same.version.version, 1);
  assert.equal(same.version.hash, v1.version.hash);

  const v2 = await registerUpload('churn', body('id,label\n1,0\n2,1\n'), 'text/csv');
  assert.equal(v2.created, true);
  assert.equal(v2.version.version, 2);
  assert.notEqual(v2.version.hash, v1.version.hash);

  // Concurrent registrations of one new content agree on one new version.
  const racing = await Promise.all(
    [1, 2, 3].map(() => registerUpload('churn', body('id,label\n3,1\n'), 'text/csv')),
  );
  assert.equal(racing.filter((r) => r.created).length, 1);
  assert.deepEqual(new Set(racing.map((r) => r.version.version)), new Set([3]));

  const d = await getDataset('churn');
  assert.deepEqual(
    d.items.map((v) => v.version),
    [3, 2, 1],
  );
  assert.equal(d.latest.version, 3);

  assert.deepEqual(await resolveDatasetRef('churn@2'), {
    name: 'churn',
    version: 2,
    hash: v2.version.hash,
    type: 'file',
  });
  assert.equal((await resolveDatasetRef('churn@latest')).version, 3);
  await assert.rejects(
    resolveDatasetRef('churn@9'),
    (e: unknown) => e instanceof ProblemError && e.status === 404 && /versions are 1 to 3/.test(e.message),
  );
  await assert.rejects(
    resolveDatasetRef('nope@1'),
    (e: unknown) => e instanceof ProblemError && e.status === 404,
  );
  await assert.rejects(
    resolveDatasetRef('churn@v2'),
    (e: unknown) => e instanceof ProblemError && e.status === 400,
  );
});
