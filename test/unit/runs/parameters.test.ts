import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { coerceCliParameter, resolveInputRefs, resolveParameters } from '../../../lib/runs/parameters';
import type { FieldProblem } from '../../../lib/errors/problem';

const def = {
  parameters: {
    epochs: { type: 'integer', default: 3, min: 1 },
    region: { type: 'enum', values: ['eu', 'us'], default: 'eu' },
  },
  inputs: { raw: { type: 'dataset', default: 'churn-raw@latest' } },
} as never;

describe('run parameters', () => {
  test('defaults fill in and given values win', () => {
    const p: FieldProblem[] = [];
    assert.deepEqual(resolveParameters(def, { epochs: 5 }, p), { epochs: 5, region: 'eu' });
    assert.deepEqual(p, []);
  });

  test('every unknown name and wrong type is reported with its pointer', () => {
    const p: FieldProblem[] = [];
    resolveParameters(def, { epoch: 5, region: 'mars', epochs: 'x' }, p);
    assert.deepEqual(
      p.map((x) => x.pointer),
      ['/parameters/epoch', '/parameters/region', '/parameters/epochs'],
    );
    assert.match(p[0]!.message, /did you mean "epochs"/);
    assert.match(p[2]!.message, /must be an integer, got the string "x"/);
  });

  test('inputs take dataset references or artifact hashes', () => {
    const p: FieldProblem[] = [];
    assert.deepEqual(resolveInputRefs(def, { raw: 'other@2' }, p), { raw: 'other@2' });
    resolveInputRefs(def, { raw: '../etc', nope: 'a@1' }, p);
    assert.deepEqual(
      p.map((x) => x.pointer),
      ['/inputs/raw', '/inputs/nope'],
    );
  });

  test('CLI values are typed by the definition', () => {
    assert.equal(coerceCliParameter('5', 'integer'), 5);
    assert.equal(coerceCliParameter('5', 'string'), '5');
    assert.equal(coerceCliParameter('true', undefined), true);
  });
});
