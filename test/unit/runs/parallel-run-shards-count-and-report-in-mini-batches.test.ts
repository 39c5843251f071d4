import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  batchFailed,
  batchSucceeded,
  failedMiniBatches,
  gatherShardsPlan,
  MAX_SHARDS,
  miniBatchCounts,
  miniBatchErrors,
  miniBatchVerdict,
  planShards,
  type BatchState,
} from '../../../lib/runs/parallel-plan';
import {
  extractSection,
  latestSectionAttempt,
  logPreamble,
  sectionHeader,
  ShardTally,
  parseShardProgress,
} from '../../../lib/compute/shard';
import { progressWriter } from '../../../lib/compute/shard-driver';

test('shards are contiguous, cover every mini-batch once, differ in size by at most one, and are few', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: 1, max: 200 }), (total, slots) => {
      const shards = planShards(total, slots);
      let next = 0;
      for (const s of shards) {
        assert.equal(s.first, next);
        assert.ok(s.count >= 1);
        next += s.count;
      }
      assert.equal(next, total);
      assert.ok(shards.length <= Math.min(MAX_SHARDS, 4 * slots));
      if (total >= 4 * slots)
        assert.equal(shards.length, Math.min(MAX_SHARDS, 4 * slots), 'every slot stays busy');
      const sizes = shards.map((s) => s.count);
      if (sizes.length) assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }),
  );
  assert.equal(planShards(10_000, 8).length, 32);
  assert.equal(planShards(100, 8).length, 32);
  assert.equal(planShards(3, 8).length, 3, 'never more shards than mini-batches');
});

const shard = (first: number, count: number, over: Partial<BatchState> = {}): BatchState => ({
  status: 'NotStarted',
  attempt: 0,
  input: 'sha256:x',
  first,
  count,
  ...over,
});

test('counts, errors and the verdict are in mini-batch units: a shard counts for its mini-batches', () => {
  const report = {
    succeeded: 3,
    failed: [6],
    errors: [
      { batch: 5, attempt: 1, code: 'exit-code', message: 'boom 5' },
      { batch: 6, attempt: 1, code: 'exit-code', message: 'boom 6' },
    ],
  };
  const done = batchSucceeded(shard(4, 4, { status: 'Running', attempt: 1 }), report);
  const batches: BatchState[] = [
    shard(0, 4, { status: 'Running', attempt: 1 }),
    done,
    batchFailed(
      shard(8, 2, { status: 'Running', attempt: 1 }),
      { code: 'lost', message: 'agent gone' },
      1,
      0,
    ),
  ];
  assert.deepEqual(miniBatchCounts(batches), { total: 10, running: 4, succeeded: 3, failed: 1, retrying: 2 });
  assert.deepEqual(miniBatchVerdict(batches, -1), { done: false });

  const settled: BatchState[] = [
    batchSucceeded(shard(0, 4, { status: 'Running', attempt: 1 }), { succeeded: 4, failed: [], errors: [] }),
    done,
    batchFailed(
      shard(8, 2, { status: 'Running', attempt: 2 }),
      { code: 'lost', message: 'agent gone' },
      1,
      0,
    ),
  ];
  assert.deepEqual(failedMiniBatches(settled), [6, 8, 9], 'a lost shard fails every mini-batch it held');
  assert.deepEqual(miniBatchCounts(settled), { total: 10, running: 0, succeeded: 7, failed: 3 });
  assert.deepEqual(miniBatchVerdict(settled, 3), { done: true, ok: true, tolerated: 3 });
  assert.deepEqual(miniBatchVerdict(settled, 2), {
    done: true,
    ok: false,
    failed: [6, 8, 9],
    total: 10,
    first: { code: 'exit-code', message: 'boom 6' },
  });
  assert.deepEqual(
    miniBatchErrors(settled).map((e) => [e.batch, e.attempt, e.code]),
    [
      [5, 1, 'exit-code'],
      [6, 1, 'exit-code'],
      [8, 2, 'lost'],
    ],
  );
});

test('summaryOnly merges the shards’ batch-NNNN folders; appendRow concatenates the shards in order', () => {
  const a = {
    type: 'directory' as const,
    manifest: [{ path: 'batch-0001/output', hash: 'h1', size: 1, mode: 0o644 }],
  };
  const b = {
    type: 'directory' as const,
    manifest: [{ path: 'batch-0000/output', hash: 'h0', size: 1, mode: 0o644 }],
  };
  const merged = gatherShardsPlan('summaryOnly', [b, undefined, a]);
  assert.deepEqual(merged.type === 'directory' && merged.manifest.map((e) => e.path), [
    'batch-0000/output',
    'batch-0001/output',
  ]);
  const rows = gatherShardsPlan('appendRow', [
    { type: 'file', hash: 'h0', size: 2 },
    undefined,
    { type: 'file', hash: 'h2', size: 3 },
  ]);
  assert.deepEqual(rows, {
    type: 'file',
    parts: [
      { hash: 'h0', size: 2 },
      { hash: 'h2', size: 3 },
    ],
  });
});

test('a shard log cuts back into one section per mini-batch attempt', () => {
  const log = [
    '[sluice] job score.b0.1 materialising input',
    sectionHeader(3, 1),
    '$ score',
    'boom',
    sectionHeader(3, 2),
    'ok 3',
    sectionHeader(4, 1),
    'ok 4',
    '==> shard end <==',
    '[sluice] 2 of 2 mini-batches succeeded',
    '',
  ].join('\n');
  assert.equal(extractSection(log, 3, 1), '$ score\nboom\n');
  assert.equal(extractSection(log, 3, 2), 'ok 3\n');
  assert.equal(
    extractSection(log, 3),
    `${sectionHeader(3, 1)}\n$ score\nboom\n${sectionHeader(3, 2)}\nok 3\n`,
  );
  assert.equal(extractSection(log, 4, 1), 'ok 4\n', 'the shard’s closing notes are not the last batch’s');
  assert.equal(extractSection(log, 5), undefined);
  assert.equal(logPreamble(log), '[sluice] job score.b0.1 materialising input\n', 'the job’s own notes');
  assert.equal(latestSectionAttempt(log, 3), 2);
  assert.equal(latestSectionAttempt(log, 9), 0);
});

test('a shard reports its first failed attempts and always its first final failure', () => {
  const t = new ShardTally();
  for (let i = 0; i < 8; i++) t.attemptFailed(i, 1, 'exit-code', `retry ${i}`, false);
  t.batchSucceeded();
  t.attemptFailed(9, 2, 'timeout', 'x'.repeat(2000), true);
  const r = t.report();
  assert.equal(r.succeeded, 1);
  assert.deepEqual(r.failed, [9]);
  assert.equal(r.errors.length, 6);
  assert.deepEqual([r.errors[5]!.batch, r.errors[5]!.attempt, r.errors[5]!.message.length], [9, 2, 500]);
});

test("a shard's progress is read back as written, and a torn or foreign text is none", () => {
  const p = { succeeded: 3, failed: 1, failedBatches: [7] };
  assert.deepEqual(parseShardProgress(JSON.stringify(p)), p);
  // Written before failed indexes were carried: none listed.
  assert.deepEqual(parseShardProgress('{"succeeded":2,"failed":0}'), {
    succeeded: 2,
    failed: 0,
    failedBatches: [],
  });
  assert.equal(parseShardProgress('{"succeeded":2,"fai'), undefined);
  assert.equal(
    parseShardProgress('[{"name":"loss","value":1,"step":0}]'),
    undefined,
    "a sweep trial's metrics",
  );
  assert.equal(parseShardProgress(undefined), undefined);
});

test('the driver writes progress at once, and a report that comes too soon once its time is up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-progress-'));
  const file = join(dir, 'shard.json.progress.json');
  const w = progressWriter(file);
  const read = (): unknown => parseShardProgress(readFileSync(file, 'utf8'));
  w.report({ succeeded: 1, failed: 0, failedBatches: [] });
  assert.deepEqual(read(), { succeeded: 1, failed: 0, failedBatches: [] }, 'the first report at once');
  w.report({ succeeded: 2, failed: 0, failedBatches: [] });
  w.report({ succeeded: 2, failed: 1, failedBatches: [4] });
  assert.deepEqual(read(), { succeeded: 1, failed: 0, failedBatches: [] }, 'no write per report');
  // Written by its timer (no further report comes): waited for, not timed.
  const latest = { succeeded: 2, failed: 1, failedBatches: [4] };
  for (let i = 0; i < 100 && JSON.stringify(read()) !== JSON.stringify(latest); i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(read(), latest, 'the latest, not left stale');
  w.stop();
  rmSync(dir, { recursive: true, force: true });
});
