import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { fileInDirectory, materialize, putDirectory, readManifest } from '../../lib/data/cas';

let stack: TestStack;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-cas-dir-'));
});

after(async () => {
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const sha = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

test('a stored directory is named by the sha256 of its canonical manifest and materialises identically', async () => {
  const dir = join(tmp, 'src');
  await mkdir(join(dir, 'b', 'c'), { recursive: true });
  const big = Buffer.alloc(9 * 1024 * 1024 + 123, 7); // more than one upload block
  await writeFile(join(dir, 'z.txt'), 'last');
  await writeFile(join(dir, 'a.txt'), 'first');
  await writeFile(join(dir, 'b', 'c', 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(dir, 'b', 'c', 'run.sh'), 0o755);
  await writeFile(join(dir, 'b', 'big.bin'), big);
  await writeFile(join(dir, 'empty'), '');

  const stored = await putDirectory(dir);

  // The expected manifest, computed independently: sorted by path, keys in sorted order, no spaces.
  const files: Array<[string, Buffer, number]> = [
    ['a.txt', Buffer.from('first'), 0o644],
    ['b/big.bin', big, 0o644],
    ['b/c/run.sh', Buffer.from('#!/bin/sh\necho hi\n'), 0o755],
    ['empty', Buffer.alloc(0), 0o644],
    ['z.txt', Buffer.from('last'), 0o644],
  ];
  const canonical =
    '[' +
    files.map(([p, b, m]) => `{"hash":"${sha(b)}","mode":${m},"path":"${p}","size":${b.length}}`).join(',') +
    ']';
  assert.equal(stored.hash, sha(canonical));
  assert.equal(stored.files, 5);
  assert.equal(
    stored.size,
    files.reduce((n, [, b]) => n + b.length, 0),
  );
  assert.deepEqual(await readManifest(stored.hash), JSON.parse(canonical));
  assert.equal((await fileInDirectory(stored.hash, 'b/c/run.sh')).hash, sha('#!/bin/sh\necho hi\n'));

  const out = join(tmp, 'out');
  await materialize(stored.hash, 'directory', out);
  for (const [p, b, m] of files) {
    assert.deepEqual(await readFile(join(out, p)), b, p);
    assert.equal((await stat(join(out, p))).mode & 0o777, m, `${p} mode`);
  }
  // The same tree elsewhere has the same name.
  assert.equal((await putDirectory(out)).hash, stored.hash);
});
