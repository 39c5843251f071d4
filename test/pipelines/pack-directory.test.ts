import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packDirectory } from '../../lib/snapshots/pack';
import { parseSnapshotArchive } from '../../lib/snapshots/manifest';
import { snapshotLimits } from '../../lib/snapshots/limits';

const dir = mkdtempSync(join(tmpdir(), 'sluice-pack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('packing honours .gitignore and .sluiceignore, skips .git, keeps links, and is byte-for-byte repeatable', async () => {
  const w = (p: string, s = p): void => {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), s);
  };
  w('.gitignore', 'node_modules/\n*.tmp\n');
  w('.sluiceignore', 'data/\n!data/keep.csv\nsecret.env\n');
  w('train.py');
  w('lib/util.py');
  w('scratch.tmp');
  w('secret.env');
  w('node_modules/x/index.js');
  w('data/big.bin');
  w('.git/HEAD');
  symlinkSync('lib/util.py', join(dir, 'util.py'));

  const a = await packDirectory(dir);
  assert.deepEqual(a.files, ['.gitignore', '.sluiceignore', 'lib/util.py', 'train.py', 'util.py']);
  const b = await packDirectory(dir);
  assert.ok(a.archive.equals(b.archive), 'same tree, same bytes');

  const parsed = await parseSnapshotArchive(a.archive, snapshotLimits({}));
  assert.deepEqual(
    parsed.manifest.entries.map((e) => `${e.path}:${e.type}`),
    ['.gitignore:file', '.sluiceignore:file', 'lib/util.py:file', 'train.py:file', 'util.py:symlink'],
  );
});
