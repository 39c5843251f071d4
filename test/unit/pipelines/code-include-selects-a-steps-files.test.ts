import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { includePatternProblem, selectIncluded } from '../../../lib/snapshots/include';
import { validateDefinition, validateDefinitionText } from '../../../lib/pipelines/validate';

const FILES = [
  '.env.example',
  'common/__init__.py',
  'common/io.py',
  'common/nested/deep.py',
  'evaluate.py',
  'prepare.py',
  'requirements.txt',
  'train.py',
];

test('a file name, a ** glob, a directory name and a brace list each keep just their files', () => {
  assert.deepEqual(selectIncluded(FILES, ['train.py']).kept, ['train.py']);
  assert.deepEqual(selectIncluded(FILES, ['train.py', 'common/**']).kept, [
    'common/__init__.py',
    'common/io.py',
    'common/nested/deep.py',
    'train.py',
  ]);
  assert.deepEqual(selectIncluded(FILES, ['common']).kept, selectIncluded(FILES, ['common/**']).kept);
  assert.deepEqual(selectIncluded(FILES, ['common/']).kept, selectIncluded(FILES, ['common/**']).kept);
  assert.deepEqual(selectIncluded(FILES, ['{prepare,evaluate}.py']).kept, ['evaluate.py', 'prepare.py']);
  // `*` stays inside one directory; dotfiles count; a leading ./ is the directory itself.
  assert.deepEqual(selectIncluded(FILES, ['*.py']).kept, ['evaluate.py', 'prepare.py', 'train.py']);
  assert.deepEqual(selectIncluded(FILES, ['**/*.py']).kept.length, 6);
  assert.deepEqual(selectIncluded(FILES, ['.env*']).kept, ['.env.example']);
  assert.deepEqual(selectIncluded(FILES, ['./train.py']).kept, ['train.py']);
});

test('a pattern that matches nothing is reported by index, and the others still select', () => {
  const s = selectIncluded(FILES, ['train.py', 'trian.py', 'models/**']);
  assert.deepEqual(s.kept, ['train.py']);
  assert.deepEqual(s.unmatched, [1, 2]);
  assert.deepEqual(s.invalid, []);
});

test('patterns that cannot name a file inside the directory are refused with the reason', () => {
  const bad: Record<string, RegExp> = {
    '': /empty/,
    '/etc/passwd': /absolute/,
    'C:/code/x.py': /absolute/,
    '../secrets/**': /\.\./,
    'common/../../x': /\.\./,
    'common\\io.py': /backslash/,
    '!tests/**': /excludes files/,
    'train[.py': /"\[" that is never closed/,
    '*.{py,txt': /"\{" that is never closed/,
    '+(a|b': /"\(" that is never closed/,
  };
  for (const [p, why] of Object.entries(bad)) assert.match(includePatternProblem(p) ?? 'valid', why, p);
  for (const p of ['train.py', 'common/**', '[a-c]*.py', '*.{py,txt}', '+(a|b).py', 'a]b'])
    assert.equal(includePatternProblem(p), undefined, p);
  const s = selectIncluded(FILES, ['../x', 'train.py']);
  assert.deepEqual(
    s.invalid.map((i) => i.index),
    [0],
  );
  assert.deepEqual(s.unmatched, []);
  assert.deepEqual(s.kept, ['train.py']);
});

test('a kept symlink keeps what it points to, through chains and into directories', () => {
  const paths = [
    'config.json',
    'data/a.csv',
    'data/b.csv',
    'link-data',
    'models/current',
    'models/v2.json',
    'train.py',
  ];
  const links = new Map([
    ['link-data', 'data'],
    ['models/current', 'v2.json'],
  ]);
  assert.deepEqual(selectIncluded(paths, ['train.py', 'models/current'], links).kept, [
    'models/current',
    'models/v2.json',
    'train.py',
  ]);
  assert.deepEqual(selectIncluded(paths, ['link-data'], links).kept, [
    'data/a.csv',
    'data/b.csv',
    'link-data',
  ]);
  const chain = new Map([
    ['a', 'b'],
    ['b', 'c'],
  ]);
  assert.deepEqual(selectIncluded(['a', 'b', 'c', 'd'], ['a'], chain).kept, ['a', 'b', 'c']);
  // A link pointing at itself or round in a loop ends.
  assert.deepEqual(
    selectIncluded(
      ['x', 'y'],
      ['x'],
      new Map([
        ['x', 'y'],
        ['y', 'x'],
      ]),
    ).kept,
    ['x', 'y'],
  );
});

test('selection is a subset in the original order, and a literal path of any file keeps exactly it', () => {
  const segment = fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,8}$/);
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/')),
        {
          minLength: 1,
          maxLength: 20,
        },
      ),
      fc.nat(),
      (paths, n) => {
        // No path may also be a directory of another (a snapshot cannot hold both).
        const files = paths.filter((p) => !paths.some((q) => q.startsWith(p + '/'))).sort();
        if (!files.length) return;
        const pick = files[n % files.length]!;
        const s = selectIncluded(files, [pick]);
        assert.deepEqual(s.kept, [pick]);
        const all = selectIncluded(files, ['**']);
        assert.deepEqual(all.kept, files);
      },
    ),
  );
});

test('validation accepts code as { path, include } and points at each bad pattern', () => {
  const def = (code: unknown) => ({ name: 'pipe', steps: { train: { command: 'python train.py', code } } });
  const ok = validateDefinition(def({ path: './src', include: ['train.py', 'common/**'] }));
  assert.equal(ok.ok, true, JSON.stringify(ok.errors));
  assert.equal(ok.definition!.steps.train!.kind, 'command');

  const bad = validateDefinition(def({ path: './src', include: ['train.py', '../up', '!x'] }));
  assert.deepEqual(
    bad.errors.map((e) => e.pointer),
    ['/steps/train/code/include/1', '/steps/train/code/include/2'],
  );
  assert.match(bad.errors[0]!.message, /include "\.\.\/up" climbs out of the code directory/);

  const empty = validateDefinition(def({ path: './src', include: [] }));
  assert.equal(empty.ok, false);
  assert.ok(
    empty.errors.some((e) => e.pointer.startsWith('/steps/train/code')),
    JSON.stringify(empty.errors),
  );
  const extra = validateDefinition(def({ path: './src', inclde: ['x'] }));
  assert.equal(extra.ok, false);
  assert.ok(
    extra.errors.some((e) => e.pointer.startsWith('/steps/train/code')),
    JSON.stringify(extra.errors),
  );

  // On the server the path must be a snapshot reference, and the problem points at it.
  const server = validateDefinition(def({ path: './src', include: ['train.py'] }), {
    requireSnapshotRefs: true,
  });
  assert.deepEqual(
    server.errors.map((e) => e.pointer),
    ['/steps/train/code/path'],
  );
});

test('a bad pattern in a file is reported at its line', () => {
  const text = [
    'name: pipe',
    'steps:',
    '  train:',
    '    command: python train.py',
    '    code:',
    '      path: ./src',
    '      include: [train.py, "/abs/**"]',
  ].join('\n');
  const r = validateDefinitionText(text);
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.errors.map((e) => e.pointer),
    ['/steps/train/code/include/1'],
  );
});
