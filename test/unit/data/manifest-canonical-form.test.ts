import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  canonicalJson,
  decodeManifest,
  encodeManifest,
  normalizeMode,
  safeRelativePath,
} from '../../../lib/data/hash';
import { DataError } from '../../../lib/data/errors';

const h = (c: string): string => 'sha256:' + c.repeat(64);

test('canonical JSON does not depend on key order', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
      const reversed = Object.fromEntries(Object.entries(obj).reverse());
      assert.equal(canonicalJson(obj), canonicalJson(reversed));
    }),
  );
  assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
});

test('a manifest hash does not depend on entry order', () => {
  const entries = [
    { path: 'z', hash: h('a'), size: 1, mode: 0o644 },
    { path: 'a/b', hash: h('b'), size: 2, mode: 0o755 },
    { path: 'a', hash: h('c'), size: 0, mode: 0o644 },
  ];
  const one = encodeManifest(entries);
  const two = encodeManifest([...entries].reverse());
  assert.equal(one.hash, two.hash);
  assert.deepEqual(
    decodeManifest(one.bytes, one.hash).map((e) => e.path),
    ['a', 'a/b', 'z'],
  );
});

test('modes are normalised to 644 or 755 so umask does not change hashes', () => {
  assert.equal(normalizeMode(0o100600), 0o644);
  assert.equal(normalizeMode(0o100700), 0o755);
  assert.equal(normalizeMode(0o100775), 0o755);
});

test('manifest paths that could escape the destination are rejected', () => {
  for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a//b', './a', 'a\\b', '', '.', 'a/./b'])
    assert.equal(safeRelativePath(bad), undefined, bad);
  assert.equal(safeRelativePath('a/b.txt'), 'a/b.txt');
  const evil = Buffer.from(JSON.stringify([{ path: '../evil', hash: h('a'), size: 1, mode: 420 }]));
  assert.throws(
    () => decodeManifest(evil, h('f')),
    (e: unknown) => e instanceof DataError && e.code === 'not-a-directory',
  );
  assert.throws(() => decodeManifest(Buffer.from('{}'), h('f')), DataError);
});
