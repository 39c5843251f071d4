import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSnapshotArchive } from '../../../lib/snapshots/manifest';
import { snapshotLimits } from '../../../lib/snapshots/limits';
import { ProblemError } from '../../../lib/errors/problem';
import { tarGz } from './tarball';

const limits = snapshotLimits({});

async function rejection(entries: Parameters<typeof tarGz>[0], l = limits): Promise<ProblemError> {
  const archive = await tarGz(entries);
  const err = await parseSnapshotArchive(archive, l).then(
    () => assert.fail('expected the archive to be rejected'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProblemError, String(err));
  return err;
}

describe('a snapshot archive is read safely and identified by its content', () => {
  test('the same tree gives the same hash whatever the entry order, timestamps or directory entries', async () => {
    const a = await parseSnapshotArchive(
      await tarGz([
        { name: 'src/', type: 'directory' },
        { name: 'src/a.js', content: 'a' },
        { name: 'run.sh', content: '#!/bin/sh', mode: 0o755 },
      ]),
      limits,
    );
    const b = await parseSnapshotArchive(
      await tarGz([
        { name: './run.sh', content: '#!/bin/sh', mode: 0o700, mtime: new Date(0) },
        { name: './src/a.js', content: 'a', mtime: new Date(0) },
      ]),
      limits,
    );
    assert.equal(a.hash, b.hash);
    assert.equal(a.files, 2);
    assert.equal(a.bytes, 10);
    const c = await parseSnapshotArchive(
      await tarGz([
        { name: 'src/a.js', content: 'b' },
        { name: 'run.sh', content: '#!/bin/sh', mode: 0o755 },
      ]),
      limits,
    );
    assert.notEqual(a.hash, c.hash);
  });

  test('".." entries are rejected with the entry named', async () => {
    const e = await rejection([
      { name: 'ok.txt', content: 'x' },
      { name: '../evil.txt', content: 'x' },
    ]);
    assert.equal(e.status, 400);
    assert.match(
      e.errors![0]!.message,
      /"\.\.\/evil\.txt" contains "\.\.", which would escape the snapshot root/,
    );
  });

  test('absolute paths are rejected', async () => {
    const e = await rejection([{ name: '/etc/passwd', content: 'x' }]);
    assert.match(e.errors![0]!.message, /absolute path/);
  });

  test('symlinks and hard links pointing outside are rejected; links inside are kept', async () => {
    const e = await rejection([
      { name: 'a.txt', content: 'x' },
      { name: 'out', type: 'symlink', linkname: '../../etc/passwd' },
      { name: 'abs', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'hard', type: 'link', linkname: '../outside' },
    ]);
    const messages = e.errors!.map((p) => p.message).join('\n');
    assert.match(messages, /Symlink "out" points to "\.\.\/\.\.\/etc\/passwd", outside the snapshot root/);
    assert.match(messages, /Symlink "abs" points to "\/etc\/passwd"/);
    assert.match(messages, /Hard link "hard"/);
    const ok = await parseSnapshotArchive(
      await tarGz([
        { name: 'lib/a.txt', content: 'x' },
        { name: 'link', type: 'symlink', linkname: 'lib/a.txt' },
      ]),
      limits,
    );
    assert.deepEqual(
      ok.manifest.entries.map((x) => x.type),
      ['file', 'symlink'],
    );
  });

  test('writing through a symlinked directory is rejected', async () => {
    const e = await rejection([
      { name: 'dir', type: 'symlink', linkname: '.' },
      { name: 'dir/x.txt', content: 'x' },
    ]);
    assert.match(e.errors![0]!.message, /lies under the symlink "dir"/);
  });

  test('devices and fifos are rejected', async () => {
    const e = await rejection([{ name: 'pipe', type: 'fifo' }]);
    assert.match(e.errors![0]!.message, /is a fifo/);
  });

  test('size limits answer 413 naming the setting', async () => {
    const small = { ...limits, maxFiles: 2, maxExpandedBytes: 10, maxFileBytes: 8 };
    let e = await rejection(
      [
        { name: 'a', content: '1' },
        { name: 'b', content: '2' },
        { name: 'c', content: '3' },
      ],
      small,
    );
    assert.equal(e.status, 413);
    assert.match(e.message, /SLUICE_SNAPSHOT_MAX_FILES/);
    e = await rejection([{ name: 'a', content: '123456789' }], small);
    assert.equal(e.status, 413);
    assert.match(e.message, /SLUICE_SNAPSHOT_MAX_FILE_BYTES/);
    e = await rejection([{ name: 'a', content: '1' }], { ...limits, maxCompressedBytes: 10 });
    assert.match(e.message, /SLUICE_SNAPSHOT_MAX_COMPRESSED_BYTES/);
  });

  test('a gzip bomb stops at the expanded limit', async () => {
    const e = await rejection([{ name: 'zeros', content: '\0'.repeat(5_000_000) }], {
      ...limits,
      maxExpandedBytes: 1_000_000,
    });
    assert.equal(e.status, 413);
    assert.match(e.message, /SLUICE_SNAPSHOT_MAX_EXPANDED_BYTES/);
  });

  test('a body that is not gzip is a 400 that says what to send', async () => {
    const err = await parseSnapshotArchive(Buffer.from('hello'), limits).catch((x: unknown) => x);
    assert.ok(err instanceof ProblemError);
    assert.equal(err.status, 400);
    assert.match(err.errors![0]!.message, /not gzip data/);
  });
});
