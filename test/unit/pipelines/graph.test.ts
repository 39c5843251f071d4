import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepDependencies, topologicalOrder, findCycles, parseBinding } from '../../../lib/pipelines/graph';
import { parseDuration } from '../../../lib/pipelines/formats';
import { validateDefinition } from '../../../lib/pipelines/validate';
import { example } from './helpers';

test('dependencies separate data edges from order-only edges, and the order respects both', () => {
  const def = validateDefinition(example()).definition!;
  const deps = stepDependencies(def);
  assert.deepEqual(deps.prep, { data: [], order: [], all: [] });
  assert.deepEqual(deps.train!.data, [{ input: 'data', step: 'prep', output: 'clean' }]);
  assert.deepEqual(deps.train!.order, ['prep']);
  assert.deepEqual(deps.train!.all, ['prep']);
  assert.deepEqual(topologicalOrder(def), ['prep', 'train']);
});

test('cycles come out closed and in flow order; acyclic graphs give none', () => {
  const e = new Map([
    ['a', new Set(['c'])],
    ['b', new Set(['a'])],
    ['c', new Set(['b'])],
    ['d', new Set(['a'])],
  ]);
  assert.deepEqual(findCycles(e), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(
    findCycles(
      new Map([
        ['a', new Set<string>()],
        ['b', new Set(['a'])],
      ]),
    ),
    [],
  );
});

test('bindings and durations parse', () => {
  assert.deepEqual(parseBinding('${{ steps.a.outputs.b }}'), { kind: 'stepOutput', step: 'a', output: 'b' });
  assert.deepEqual(parseBinding('raw@latest'), { kind: 'dataset', name: 'raw', version: 'latest' });
  assert.equal(parseBinding('raw').kind, 'invalid');
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('30 m'), undefined);
});
