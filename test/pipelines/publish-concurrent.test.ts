import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../support/stack';
import { listVersions, publishPipeline } from '../../lib/pipelines/store';
import { assertValidDefinition } from '../../lib/pipelines/validate';

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(() => stack?.stop());

const def = (i: number) => assertValidDefinition({ name: 'racy', steps: { a: { command: `echo ${i}` } } });

test('concurrent publishes of different definitions get distinct consecutive versions; identical ones get one', async () => {
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => publishPipeline(def(i))));
  assert.deepEqual(
    results.map((r) => r.version).sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  assert.ok(results.every((r) => r.created));

  const same = await Promise.all(Array.from({ length: 6 }, () => publishPipeline(def(99))));
  assert.equal(new Set(same.map((r) => r.version)).size, 1, JSON.stringify(same));
  assert.equal(same.filter((r) => r.created).length, 1);
  assert.equal(same[0]!.version, 11);

  const page = await listVersions('racy', { limit: 100 });
  assert.deepEqual(
    page.items.map((v) => v.version),
    [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
  );
});
