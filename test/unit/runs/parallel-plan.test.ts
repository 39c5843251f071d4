import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  batchFailed,
  batchJobId,
  gatherPlan,
  miniBatchListing,
  nextBatchRetryAt,
  nextBatches,
  parseBatchJobId,
  planMiniBatches,
  splitLines,
  stepVerdict,
  type BatchState,
} from '../../../lib/runs/parallel-plan';

const files = Array.from({ length: 10 }, (_, i) => `f${String(i).padStart(2, '0')}.csv`);

test('10 files in mini-batches of 3 make 4 batches in path order, the last one short', () => {
  const batches = planMiniBatches([...files].reverse(), 3);
  assert.deepEqual(
    batches.map((b) => b.paths.length),
    [3, 3, 3, 1],
  );
  assert.deepEqual(batches[0], { index: 0, paths: ['f00.csv', 'f01.csv', 'f02.csv'] });
  assert.deepEqual(batches[3], { index: 3, paths: ['f09.csv'] });
  assert.equal(miniBatchListing('/w/in/', batches[3]!), '/w/in/f09.csv\n');
  assert.equal(batchJobId('score', 3, 2), 'score.b3.2');
});

test('every file lands in exactly one batch, whatever the order and size', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1 })), fc.integer({ min: 1, max: 20 }), (fs, size) => {
      const batches = planMiniBatches(fs, size);
      assert.deepEqual(batches.flatMap((b) => b.paths).sort(), [...fs].sort());
      assert.ok(batches.every((b) => b.paths.length >= 1 && b.paths.length <= size));
      assert.deepEqual(planMiniBatches([...fs].reverse(), size), batches);
    }),
  );
});

test('a mini-batch size below 1 is refused with the value', () => {
  assert.throws(() => planMiniBatches(files, 0), /miniBatchSize must be an integer ≥ 1, got 0/);
});

test('batches start in index order within the free slots; a failed one starts again once its back-off is due', () => {
  const s = (status: BatchState['status'], attempt: number, retryAt?: number): BatchState => ({
    status,
    attempt,
    ...(retryAt !== undefined ? { retryAt } : {}),
  });
  assert.deepEqual(nextBatches([s('NotStarted', 0), s('NotStarted', 0), s('NotStarted', 0)], 2, 0), [0, 1]);
  assert.deepEqual(nextBatches([s('Running', 1), s('NotStarted', 0), s('NotStarted', 0)], 2, 0), [1]);
  assert.deepEqual(nextBatches([s('Failed', 1, 5000), s('Succeeded', 1)], 2, 4999), [], 'still backing off');
  assert.deepEqual(nextBatches([s('Failed', 1, 5000), s('Succeeded', 1)], 2, 5000), [0], 'due');
  assert.deepEqual(nextBatches([s('Failed', 2), s('Succeeded', 1)], 2, 9e9), [], 'no retry planned');
});

test('a failed batch gets a retry time from the step back-off while attempts remain and the failure is worth one', () => {
  const running: BatchState = { status: 'Running', attempt: 1 };
  const boom = { code: 'exit-code' as const, message: 'boom' };
  const once = batchFailed(running, boom, 2, 1000);
  assert.deepEqual(once, { status: 'Failed', attempt: 1, failure: { ...boom, attempt: 1 }, retryAt: 3000 });
  const twice = batchFailed({ ...once, status: 'Running', attempt: 2 }, boom, 2, 10_000);
  assert.equal(twice.retryAt, 14_000, 'the back-off doubles');
  assert.equal(
    batchFailed({ status: 'Running', attempt: 3 }, boom, 2, 0).retryAt,
    undefined,
    'retries used up',
  );
  const missing = { code: 'missing-output' as const, message: 'no model' };
  assert.equal(batchFailed(running, missing, 5, 0).retryAt, undefined, 'the same inputs miss it again');
  assert.equal(nextBatchRetryAt([once, { status: 'Failed', attempt: 1, retryAt: 2000 }]), 2000);
  assert.equal(
    nextBatchRetryAt([once, running], 1),
    undefined,
    'every slot is taken: the next batch end starts it',
  );
});

test('the step ends when every batch succeeded or finally failed, failing past the error threshold', () => {
  const ok: BatchState = { status: 'Succeeded', attempt: 1 };
  const bad: BatchState = { status: 'Failed', attempt: 1 };
  const retrying: BatchState = { ...bad, retryAt: 5000 };
  assert.deepEqual(stepVerdict([ok, { status: 'Running', attempt: 1 }], -1), { done: false });
  assert.deepEqual(stepVerdict([ok, retrying], -1), { done: false }, 'the failed batch still has a retry');
  assert.deepEqual(stepVerdict([ok, bad], -1), { done: true, ok: true }, '-1 tolerates any failure');
  assert.deepEqual(stepVerdict([ok, bad], 0), { done: true, ok: false, failed: [1] });
  assert.deepEqual(stepVerdict([ok, bad, bad], 2), { done: true, ok: true });
});

test('appendRow concatenates batch outputs in batch order; summaryOnly keeps one folder per batch', () => {
  const outs = [
    { type: 'file' as const, hash: 'sha256:a', size: 3 },
    undefined,
    {
      type: 'directory' as const,
      manifest: [
        { path: 'z.txt', hash: 'sha256:z', size: 1, mode: 0o644 },
        { path: 'b.txt', hash: 'sha256:b', size: 2, mode: 0o644 },
      ],
    },
  ];
  assert.deepEqual(gatherPlan('appendRow', outs), {
    type: 'file',
    parts: [
      { hash: 'sha256:a', size: 3 },
      { hash: 'sha256:b', size: 2 },
      { hash: 'sha256:z', size: 1 },
    ],
  });
  const dir = gatherPlan('summaryOnly', outs);
  assert.equal(dir.type, 'directory');
  assert.deepEqual(dir.type === 'directory' ? dir.manifest.map((e) => e.path) : [], [
    'batch-0000/output',
    'batch-0002/b.txt',
    'batch-0002/z.txt',
  ]);
});

test('a batch job id is read back only for its own step', () => {
  assert.deepEqual(parseBatchJobId('score', batchJobId('score', 12, 3)), { index: 12, attempt: 3 });
  assert.equal(parseBatchJobId('score', 'score.2'), undefined, "the step's own job");
  assert.equal(parseBatchJobId('sc', batchJobId('score', 1, 1)), undefined);
  assert.equal(parseBatchJobId('score', 'score.b1.x'), undefined);
});

test('a file splits into batches of whole lines that concatenate back to the file', () => {
  assert.deepEqual(splitLines('a\nb\nc\nd\ne', 2), ['a\nb\n', 'c\nd\n', 'e']);
  assert.deepEqual(splitLines('a\nb\n', 5), ['a\nb\n']);
  assert.deepEqual(splitLines('', 3), []);
  fc.assert(
    fc.property(fc.string(), fc.integer({ min: 1, max: 9 }), (text, size) => {
      assert.equal(splitLines(text, size).join(''), text);
    }),
  );
});
