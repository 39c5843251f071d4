import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateDefinition, validateDefinitionText } from '../../../lib/pipelines/validate';
import { stringify } from 'yaml';
import { example } from './helpers';

/** Applies one random mutation to a deep copy: replace, delete or rename something somewhere. */
function mutate(root: unknown, path: number[], replacement: unknown, op: number): unknown {
  const copy = structuredClone(root) as any;
  let cur = copy;
  for (const i of path) {
    if (cur === null || typeof cur !== 'object') break;
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    const k = keys[i % keys.length]!;
    if (cur[k] === null || typeof cur[k] !== 'object' || op % 3 === 0) {
      if (op % 3 === 1) delete cur[k];
      else if (op % 3 === 2 && !Array.isArray(cur)) {
        cur[k + 'x'] = cur[k];
        delete cur[k];
      } else cur[k] = replacement;
      return copy;
    }
    cur = cur[k];
  }
  return copy;
}

const check = (r: ReturnType<typeof validateDefinition>): void => {
  if (r.ok) return;
  assert.ok(r.errors.length > 0);
  for (const e of r.errors) {
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 0);
    assert.ok(e.pointer === '' || e.pointer.startsWith('/'), e.pointer);
  }
};

test('thousands of mutated definitions never make the validator throw, and every problem has a pointer', () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(20), { minLength: 1, maxLength: 6 }),
      fc.jsonValue({ maxDepth: 3 }),
      fc.nat(),
      fc.nat(3),
      (path, replacement, op, times) => {
        let def: unknown = example();
        for (let i = 0; i <= times; i++)
          def = mutate(
            def,
            path.map((p) => p + i),
            replacement,
            op + i,
          );
        check(validateDefinition(def));
      },
    ),
    { numRuns: 3000 },
  );
});

test('arbitrary values and arbitrary text never make the validator throw', () => {
  fc.assert(
    fc.property(fc.anything({ maxDepth: 4 }), (v) => check(validateDefinition(v))),
    { numRuns: 1500 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => check(validateDefinitionText(s))),
    {
      numRuns: 1500,
    },
  );
  const yaml = stringify(example());
  fc.assert(
    fc.property(fc.nat(yaml.length), fc.nat(40), fc.string({ maxLength: 8 }), (at, cut, insert) => {
      check(validateDefinitionText(yaml.slice(0, at) + insert + yaml.slice(at + cut)));
    }),
    { numRuns: 2000 },
  );
});

test('a YAML alias bomb is refused, not expanded', () => {
  const bomb =
    'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' +
    'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n';
  const r = validateDefinitionText(bomb);
  assert.equal(r.ok, false);
});
