import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  automlEnvironment,
  automlRequirements,
  builtinAutomlEnvironment,
  stepEnvironmentField,
} from '../../lib/automl/environment';
import { environmentForDispatch, type DispatchDeps } from '../../lib/environments/dispatch';
import { environmentChanges } from '../../lib/environments/explain';
import { splitRequirement, type EnvironmentSpec } from '../../lib/environments/spec';
import type { StepDefinition } from '../../lib/pipelines/steps-schema';

// The dispatch path every step's environment takes (lib/environments/dispatch.ts), with the pool's agent
// reports given: here the engine's own function decides what goes into the automl step's cache key.
const deps: DispatchDeps = {
  resolveRef: () => Promise.reject(new Error('no named environments here')),
  reports: () =>
    Promise.resolve([
      {
        agentId: 'a1',
        pool: 'local',
        pythons: ['3.11.7'],
        node: '20.0.0',
        uv: '0.13.9',
        platform: 'linux-x64',
        at: new Date().toISOString(),
      } as never,
    ]),
};
const dispatched = async (field: Parameters<typeof environmentForDispatch>[0]) => {
  const d = await environmentForDispatch(field, 'local', deps);
  assert.ok(d.ok, JSON.stringify(d));
  return d;
};

test('the built-in AutoML environment pins every package, so its hash in the cache key stands for exact versions', async () => {
  const pins = automlRequirements();
  for (const p of ['flaml', 'scikit-learn', 'lightgbm', 'xgboost-cpu', 'pandas', 'pyarrow', 'numpy', 'scipy'])
    assert.ok(
      pins.some((r) => splitRequirement(r)[0] === p),
      `${p} is in the built-in environment`,
    );
  assert.ok(
    pins.every((r) => /^[a-z0-9-]+==[0-9][0-9a-z.]*$/i.test(r)),
    `every requirement is an exact pin: ${pins.join(', ')}`,
  );
  const d = await dispatched(automlEnvironment(undefined));
  assert.equal(d.component!.packages!.flaml, '==2.7.0');
  assert.equal(d.component!.python, '>=3.11');
  assert.deepEqual(await dispatched(automlEnvironment(undefined)), d, 'the same spec every time');
});

test("an automl step's environment extends the built-in one, replaces a pin by name, and explain names the change", async () => {
  const before = await dispatched(automlEnvironment(undefined));
  const extended = automlEnvironment({ requirements: ['LightGBM==4.6.0', 'mlflow-skinny==3.1.0'] });
  const reqs = (extended as EnvironmentSpec).requirements as string[];
  assert.ok(reqs.includes('flaml==2.7.0'), 'the built-in pins stay');
  assert.ok(!reqs.includes('lightgbm==4.7.0'), 'a package the step names replaces the built-in pin');
  assert.ok(reqs.includes('mlflow-skinny==3.1.0'), 'others are added');
  const after = await dispatched(extended);
  assert.notEqual(after.component!.hash, before.component!.hash, 'a new cache key');
  assert.deepEqual(
    environmentChanges(before.component, after.component).map((c) => c.message),
    ['environment: lightgbm 4.7.0 → 4.6.0', 'environment: mlflow-skinny 3.1.0 added'],
  );
  // A python constraint of the step's own replaces the built-in one; index options are kept.
  const own = automlEnvironment({ python: '3.11', indexUrl: 'https://mirror.example/simple' });
  assert.deepEqual(own, {
    ...builtinAutomlEnvironment(),
    python: '3.11',
    indexUrl: 'https://mirror.example/simple',
  });
  // A named environment or a requirements file is the user's whole environment.
  assert.equal(automlEnvironment('automl-gpu@3'), 'automl-gpu@3');
  assert.deepEqual(automlEnvironment({ requirements: 'requirements.txt' }), {
    requirements: 'requirements.txt',
  });
});

test("the pipeline's default environment reaches command steps but not automl steps or data transfers", () => {
  const pipelineDefault = { requirements: ['pandas==1.5.3'] };
  const automl = { kind: 'automl' } as StepDefinition;
  const command = { kind: 'command', command: 'python x.py' } as StepDefinition;
  const transfer = { kind: 'dataTransfer' } as StepDefinition;
  assert.deepEqual(stepEnvironmentField(automl, pipelineDefault), builtinAutomlEnvironment());
  assert.deepEqual(stepEnvironmentField(command, pipelineDefault), pipelineDefault);
  assert.equal(stepEnvironmentField(transfer, pipelineDefault), undefined);
});
