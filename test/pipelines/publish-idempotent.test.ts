import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../support/stack';
import { getPipelineVersion, publishPipeline } from '../../lib/pipelines/store';
import { assertValidDefinition } from '../../lib/pipelines/validate';
import { churnDefinition } from './support';

let stack: TestStack;
before(async () => {
  stack = await startTestStack();
});
after(() => stack?.stop());

const REF = 'snapshot:sha256:' + 'c'.repeat(64);

function churn(): Record<string, any> {
  const d = churnDefinition();
  for (const s of Object.values<any>(d.steps)) s.code = REF;
  return d;
}

test('republishing an identical definition returns the same version; a changed default makes version 2', async () => {
  const first = await publishPipeline(assertValidDefinition(churn()));
  assert.equal(first.version, 1);
  assert.equal(first.created, true);

  // Same meaning, different spelling: keys reordered, defaults written out.
  const respelled = churn();
  respelled.steps = {
    train: respelled.steps.train,
    prep: { ...respelled.steps.prep, kind: 'command', reuse: true },
  };
  respelled.steps = { prep: respelled.steps.prep, train: respelled.steps.train };
  const again = await publishPipeline(assertValidDefinition(respelled));
  assert.deepEqual(
    { version: again.version, created: again.created, hash: again.definitionHash },
    { version: 1, created: false, hash: first.definitionHash },
  );

  const changed = churn();
  changed.parameters.epochs.default = 5;
  const second = await publishPipeline(assertValidDefinition(changed));
  assert.equal(second.version, 2);
  assert.equal(second.created, true);
  assert.notEqual(second.definitionHash, first.definitionHash);

  const latest = await getPipelineVersion('churn-train');
  assert.equal(latest.version, 2);
  assert.equal((latest.definition.parameters!.epochs as { default: number }).default, 5);
  const v1 = await getPipelineVersion('churn-train', 1);
  assert.equal((v1.definition.parameters!.epochs as { default: number }).default, 3);
  assert.equal(v1.isDefault, false);
});
