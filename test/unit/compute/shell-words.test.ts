import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { substituteShell } from '../../../lib/compute/shell-words';

/**
 * Whatever a value holds, once substituted it reaches the program as exactly that text, in every quoting
 * context a command can put a placeholder in: checked with a real /bin/sh, one process per case.
 */
const CONTEXTS = [
  'printf %s ${{v}}',
  'printf %s "${{v}}"',
  "printf %s '${{v}}'",
  'printf %s "pre-${{v}}-post"',
  'printf %s "$(printf %s ${{v}})"',
  'printf %s "$(printf %s \'${{v}}\')"',
];
/** What printf prints: the value (as UTF-8 can carry it); `$( … )` drops trailing newlines, as shells do. */
const expected = (ctx: string, value: string): string => {
  const v = Buffer.from(value, 'utf8').toString('utf8');
  if (ctx.includes('pre-')) return `pre-${v}-post`;
  return ctx.includes('$(') ? v.replace(/\n+$/, '') : v;
};

const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    'x"; touch /tmp/INJECTED; echo "',
    "'; touch /tmp/INJECTED; echo '",
    '$(touch /tmp/INJECTED)',
    '`touch /tmp/INJECTED`',
    'a && touch /tmp/INJECTED',
    'a | tee /tmp/INJECTED',
    'line1\nline2',
    '-n',
    '--help',
    'héllo ☃ 日本',
    '\\',
    '$HOME',
    '"\'"\'',
    '',
    ' spaced  out ',
    '*',
  ),
);

test('a substituted value reaches the program byte for byte in every quoting context', () => {
  fc.assert(
    fc.property(
      nasty.filter((v) => !v.includes('\0')),
      fc.constantFrom(...CONTEXTS),
      (v, ctx) => {
        const { text, unknown } = substituteShell(ctx, (e) => (e === 'v' ? v : undefined));
        assert.deepEqual(unknown, []);
        const r = spawnSync('/bin/sh', ['-c', text], { encoding: 'buffer' });
        assert.equal(r.status, 0, `${text}: ${r.stderr.toString()}`);
        assert.equal(r.stdout.toString('utf8'), expected(ctx, v), text);
      },
    ),
    { numRuns: 300 },
  );
});

test('unknown placeholders stay for the next stage, and escapes before them are kept', () => {
  const r = substituteShell('cp ${{inputs.a}} \\$x "${{p}}"', (e) => (e === 'p' ? 'a"b' : undefined));
  assert.equal(r.text, 'cp ${{inputs.a}} \\$x "a\\"b"');
  assert.deepEqual(r.unknown, ['${{inputs.a}}']);
});
