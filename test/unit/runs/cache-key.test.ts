import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildComponents,
  cacheKey,
  canonicalJson,
  diffComponents,
  explainRun,
} from '../../../lib/runs/cache-key';

const facts = {
  kind: 'command',
  command: 'node train.js --epochs ${{parameters.epochs}} --data ${{inputs.data}}',
  env: { LOG_LEVEL: 'info' },
  parameters: { epochs: 3, region: 'eu' },
  code: 'snapshot:sha256:' + 'a'.repeat(64),
  inputs: { data: 'sha256:' + 'ab12'.repeat(16) },
  outputs: { model: 'file' },
  environment: { node: '20' },
  cacheVersion: '1',
};

describe('cache key', () => {
  test('canonical JSON does not depend on key order', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }),
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
    );
  });

  test('only referenced parameters enter the key, substituted into the command', () => {
    const c = buildComponents(facts);
    assert.deepEqual(c.parameters, { epochs: 3 });
    assert.equal(c.command, 'node train.js --epochs 3 --data ${{inputs.data}}');
    assert.equal(
      cacheKey(c),
      cacheKey(buildComponents({ ...facts, parameters: { epochs: 3, region: 'us' } })),
    );
    assert.notEqual(
      cacheKey(c),
      cacheKey(buildComponents({ ...facts, parameters: { epochs: 5, region: 'eu' } })),
    );
    assert.match(cacheKey(c), /^sha256:[0-9a-f]{64}$/);
  });

  test('every component changes the key', () => {
    const base = cacheKey(buildComponents(facts));
    const variants = [
      { kind: 'automl' },
      { env: { LOG_LEVEL: 'debug' } },
      { code: null },
      { inputs: { data: 'sha256:' + 'cd34'.repeat(16) } },
      { outputs: { model: 'directory' } },
      { environment: { node: '22' } },
      { cacheVersion: '2' },
    ];
    for (const v of variants)
      assert.notEqual(cacheKey(buildComponents({ ...facts, ...v })), base, JSON.stringify(v));
  });

  test('the explanation names what changed, from what to what', () => {
    const before = buildComponents(facts);
    const after = buildComponents({
      ...facts,
      parameters: { epochs: 5 },
      env: { LOG_LEVEL: 'debug' },
      inputs: { data: 'sha256:' + 'cd34'.repeat(16) },
      code: 'snapshot:sha256:' + 'b'.repeat(64),
    });
    const changes = diffComponents(before, after, {
      before: [
        { path: 'src/train.js', hash: 'h1' },
        { path: 'src/util.js', hash: 'u' },
      ],
      after: [
        { path: 'src/train.js', hash: 'h2' },
        { path: 'src/util.js', hash: 'u' },
      ],
    });
    assert.deepEqual(
      changes.map((c) => c.message),
      [
        'parameter epochs: 3 → 5',
        'env LOG_LEVEL: info → debug',
        'code: src/train.js changed',
        'input data: sha256:ab12ab12ab12… → sha256:cd34cd34cd34…',
      ],
    );
    const d = explainRun({ why: 'changed', changes, from: { runId: 'r1' } });
    assert.match(d.reason, /^changed since run r1: parameter epochs: 3 → 5; /);
  });

  test('identical components explain nothing', () => {
    assert.deepEqual(diffComponents(buildComponents(facts), buildComponents(facts)), []);
  });
});
