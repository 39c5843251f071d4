import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { commit, touch, type EntryMeta } from '../../lib/environments/cache';
import { listCachedEnvironments, shortKey } from '../../lib/environments/listing';

// What an agent reports in its presence row: the cache's complete entries, never a build in progress.
const meta = (key: string, lock: string[]): EntryMeta => ({
  key: `sha256:${key}`,
  tool: 'uv 0.9',
  lock,
  python: '3.11.7',
  sizeBytes: 1234,
  builtAt: new Date(Date.now() - 60_000).toISOString(),
  buildMs: 10,
});

test('the cache listing shows complete entries most recently used first, and skips builds in progress and lock files', async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'sluice-env-listing-'));
  try {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string];
    for (const [key, lock] of [
      [a, ['numpy==2.1.0']],
      [b, ['pandas==2.2.3', 'numpy==2.1.0', 'six==1.16.0', 'pytz==2024.1', 'tzdata==2024.1', 'x==1']],
      [c, []],
    ] as const) {
      const tmp = join(dir, `.build-${key.slice(0, 16)}`);
      mkdirSync(tmp);
      await commit(dir, key, tmp, meta(key, [...lock]));
    }
    // Used long ago, just now, and in between.
    const past = (s: number) => new Date(Date.now() - s * 1000);
    utimesSync(join(dir, a, '.last-used'), past(3600), past(3600));
    await touch(dir, b);
    utimesSync(join(dir, c, '.last-used'), past(60), past(60));
    // A build in progress and a build lock are not environments.
    mkdirSync(join(dir, `.build-${'d'.repeat(16)}-1234`));
    writeFileSync(join(dir, `${'e'.repeat(64)}.lock`), '1');

    const list = await listCachedEnvironments(dir);
    assert.deepEqual(
      list.map((e) => e.key),
      [b, c, a],
    );
    assert.equal(list[0]!.packages, 6);
    assert.deepEqual(list[0]!.lockHead, [
      'pandas==2.2.3',
      'numpy==2.1.0',
      'six==1.16.0',
      'pytz==2024.1',
      'tzdata==2024.1',
    ]);
    assert.equal(list[0]!.python, '3.11.7');
    assert.ok(Date.parse(list[0]!.lastUsedAt!) > Date.parse(list[2]!.lastUsedAt!));
    assert.equal(shortKey(`sha256:${b}`), 'bbbbbbbbbbbb');
    assert.deepEqual(
      (await listCachedEnvironments(dir, 2)).map((e) => e.key),
      [b, c],
      'at most `limit`, the most recent',
    );
    assert.deepEqual(await listCachedEnvironments(join(dir, 'missing')), [], 'no cache yet: none');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
