import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblems } from '../../../lib/cli/commands/publish';
import { validateDefinitionText } from '../../../lib/pipelines/validate';

test('problems map to file:line:col — values at their value, unknown fields at their key, missing fields at their parent', () => {
  const text = [
    'name: abc', //                                   1
    'steps:', //                                      2
    '  a:', //                                        3
    '    command: run ${{parameters.nope}}', //       4
    '    retires: 2', //                              5
    '  b:', //                                        6
    '    outputs: { o: { type: file } }', //          7
    '',
  ].join('\n');
  const r = validateDefinitionText(text);
  assert.equal(r.ok, false);
  const lines = formatProblems('p.yaml', r.errors, r.positions);
  assert.ok(
    lines.some((l) => l.startsWith('p.yaml:4:14: ${{parameters.nope}} names no parameter')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.startsWith('p.yaml:5:5: Unknown field "retires". Did you mean "retries"?')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.startsWith('p.yaml:6:3: This step runs nothing: give "command"')),
    lines.join('\n'),
  );
  assert.deepEqual(
    lines.map((l) => Number(l.split(':')[1])),
    lines.map((l) => Number(l.split(':')[1])).sort((x, y) => x - y),
    'sorted by line',
  );
});
