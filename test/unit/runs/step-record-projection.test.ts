import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDispatched, observe, project } from '../../../lib/runs/step-record';
import { indexPages, pageCount, pageDocs, pageOf, STEPS_PER_PAGE } from '../../../lib/runs/step-pages';
import { parseRunSettings, RunSettingError } from '../../../lib/runs/run-settings';
import type { StepRecord } from '../../../lib/runs/store';

const NOW = Date.parse('2026-12-06T05:00:00Z');

test('the stored record mirrors the plan state: status, attempts, job and batch counts', () => {
  const r = project(undefined, 'train', { status: 'Queued', attempt: 2, jobId: 'train.2', pool: 'p' }, NOW);
  assert.deepEqual(r, { name: 'train', status: 'Queued', attempts: 2, jobId: 'train.2', pool: 'p' });
  const b = project(
    r,
    'train',
    {
      status: 'Running',
      attempt: 1,
      batches: [
        { status: 'Succeeded', attempt: 1 },
        { status: 'Running', attempt: 1 },
        {
          status: 'Failed',
          attempt: 1,
          retryAt: NOW + 2000,
          failure: { code: 'exit-code', message: 'x', attempt: 1 },
        },
        { status: 'Failed', attempt: 2, failure: { code: 'exit-code', message: 'y', attempt: 2 } },
      ],
    },
    NOW,
  );
  assert.deepEqual(b.batches, { total: 4, running: 1, succeeded: 1, failed: 1, retrying: 1 });
  assert.deepEqual(
    b.batchErrors?.map((e) => [e.batch, e.attempt, e.message]),
    [
      [2, 1, 'x'],
      [3, 2, 'y'],
    ],
  );
  assert.equal(r.status, 'Queued', 'the projection does not change the record it was given');
});

test('a skipped or canceled step gets its reason and a finish time; a failed one keeps its first error', () => {
  const failure = { code: 'skipped' as const, message: 'upstream "prep" failed' };
  const s = project(undefined, 'train', { status: 'Skipped', attempt: 0, failure }, NOW);
  assert.deepEqual(s.error, { code: 'skipped', message: 'upstream "prep" failed' });
  assert.equal(s.finishedAt, new Date(NOW).toISOString());
  const known: StepRecord = {
    name: 'x',
    status: 'Running',
    attempts: 1,
    error: { code: 'exit-code', message: 'exit 3' },
  };
  const f = project(
    known,
    'x',
    { status: 'Failed', attempt: 1, failure: { code: 'timeout', message: 't' } },
    NOW,
  );
  assert.deepEqual(f.error, { code: 'exit-code', message: 'exit 3' });
});

test('an observation adds what only the job knows, and a retried failure is kept in attemptErrors', () => {
  const before: StepRecord = {
    name: 'a',
    status: 'Running',
    attempts: 1,
    error: { code: 'x', message: 'old' },
  };
  const ok = observe(
    before,
    {
      step: 'a',
      jobId: 'a.1',
      result: {
        jobId: 'a.1',
        state: 'succeeded',
        exitCode: 0,
        outputs: [{ name: 'model', type: 'file', hash: 'sha256:ab', size: 3 }],
        metrics: [{ name: 'acc', value: 0.9 }],
        finishedAt: '2026-12-06T05:00:01Z',
        agentId: 'ag',
      },
    },
    { status: 'Completed', attempt: 1 },
  );
  assert.deepEqual(ok.outputs, { model: { type: 'file', hash: 'sha256:ab', size: 3 } });
  assert.equal(ok.error, undefined);
  assert.deepEqual(ok.metrics, [{ name: 'acc', value: 0.9 }]);
  assert.equal(before.error?.message, 'old', 'the record given is not changed');
  const failed = observe(
    before,
    {
      step: 'a',
      jobId: 'a.1',
      result: {
        jobId: 'a.1',
        state: 'failed',
        failure: { code: 'exit-code', message: 'exit 1' },
        outputs: [],
        metrics: [],
        finishedAt: '2026-12-06T05:00:01Z',
        agentId: 'ag',
      },
    },
    // Back to NotStarted: the plan retries it.
    { status: 'NotStarted', attempt: 1 },
  );
  assert.deepEqual(failed.attemptErrors, [{ attempt: 1, code: 'exit-code', message: 'exit 1' }]);
});

test('a dispatch clears the fields it sets to undefined and keeps the others', () => {
  const m = mergeDispatched(
    { name: 'a', status: 'Failed', attempts: 1, error: { code: 'x', message: 'y' }, dependsOn: ['b'] },
    { name: 'a', status: 'Queued', attempts: 2, error: undefined, jobId: 'a.2' },
  );
  assert.deepEqual(m, { name: 'a', status: 'Queued', attempts: 2, jobId: 'a.2', dependsOn: ['b'] });
});

test('step pages: about 64 records a page, a step always on the same page, every step on exactly one', () => {
  assert.equal(pageCount(0), 1);
  assert.equal(pageCount(64), 1);
  assert.equal(pageCount(65), 2);
  const names = Array.from({ length: 5000 }, (_, i) => `step-${i}`);
  const pages = pageCount(names.length);
  const index = indexPages(names, pages);
  const sizes = [...index.values()].map((s) => s.size);
  assert.equal(
    sizes.reduce((a, b) => a + b, 0),
    5000,
  );
  assert.ok(Math.max(...sizes) < STEPS_PER_PAGE * 2, `largest page ${Math.max(...sizes)}`);
  for (const n of names.slice(0, 50)) assert.ok(index.get(pageOf(n, pages))!.has(n));
  const steps = Object.fromEntries(
    names.map((n) => [n, { name: n, status: 'NotStarted' as const, attempts: 0 }]),
  );
  const docs = pageDocs('r1', steps, index, [pageOf('step-7', pages)]);
  assert.equal(docs.length, 1);
  assert.ok(docs[0]!.steps['step-7']);
  assert.equal(docs[0]!.id, `r1~steps~${pageOf('step-7', pages)}`);
});

test('run settings are parsed once with one rule: a bad value names the setting', () => {
  assert.deepEqual(parseRunSettings({}), {
    defaultStepTimeoutMs: 6 * 3600_000,
    lostAfterMs: 30_000,
    cacheVersion: '1',
  });
  assert.equal(parseRunSettings({ SLUICE_STEP_TIMEOUT_DEFAULT: '90s' }).defaultStepTimeoutMs, 90_000);
  assert.throws(
    () => parseRunSettings({ SLUICE_LOST_AFTER_MS: 'soon' }),
    (e: unknown) =>
      e instanceof RunSettingError && e.setting === 'SLUICE_LOST_AFTER_MS' && /whole number/.test(e.message),
  );
  assert.throws(
    () => parseRunSettings({ SLUICE_STEP_TIMEOUT_DEFAULT: 'an hour' }),
    /SLUICE_STEP_TIMEOUT_DEFAULT is "an hour"/,
  );
});
