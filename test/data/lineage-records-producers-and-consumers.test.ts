import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../support/stack';
import { getLineage, recordConsumed, recordProduced } from '../../lib/data/lineage';

let stack: TestStack;

before(async () => {
  stack = await startTestStack();
});

after(async () => {
  await stack?.stop();
});

test('lineage lists the run and step that produced an artifact and every consumer, idempotently', async () => {
  const hash = 'sha256:' + 'cd'.repeat(32);
  await recordProduced(hash, { runId: 'r1', step: 'prepare', output: 'data' });
  await recordProduced(hash, { runId: 'r1', step: 'prepare', output: 'data' }); // a retried activity
  await recordConsumed(hash, { runId: 'r1', step: 'train', input: 'data' });
  await recordConsumed(hash, { runId: 'r2/x', step: 'eval', input: 'test' });
  const l = await getLineage(hash);
  assert.deepEqual(
    l.producedBy.map(({ runId, step, output }) => ({ runId, step, output })),
    [{ runId: 'r1', step: 'prepare', output: 'data' }],
  );
  assert.deepEqual(l.consumedBy.map(({ runId, step, input }) => `${runId}:${step}:${input}`).sort(), [
    'r1:train:data',
    'r2/x:eval:test',
  ]);
  assert.deepEqual(await getLineage('sha256:' + 'ef'.repeat(32)), {
    hash: 'sha256:' + 'ef'.repeat(32),
    producedBy: [],
    consumedBy: [],
  });
});
