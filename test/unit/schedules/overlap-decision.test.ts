import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideOverlap } from '../../../lib/schedules/due';

test('overlap policies decide from the previous run status', () => {
  const running = { runId: 'r1', status: 'Running' };
  const done = { runId: 'r1', status: 'Completed' };
  assert.deepEqual(decideOverlap('skip', undefined), { action: 'start' });
  assert.deepEqual(decideOverlap('skip', done), { action: 'start' });
  const skip = decideOverlap('skip', running);
  assert.equal(skip.action, 'skip');
  assert.match((skip as { reason: string }).reason, /r1 is still Running/);
  assert.deepEqual(decideOverlap('allow', running), { action: 'start' });
  assert.deepEqual(decideOverlap('cancelPrevious', running), {
    action: 'cancelPreviousThenStart',
    cancelRunId: 'r1',
  });
  assert.deepEqual(decideOverlap('cancelPrevious', { runId: 'r1', status: 'Queued' }), {
    action: 'cancelPreviousThenStart',
    cancelRunId: 'r1',
  });
  assert.deepEqual(decideOverlap('cancelPrevious', { runId: 'r1', status: 'Failed' }), { action: 'start' });
  assert.deepEqual(decideOverlap('skip', { runId: 'gone', status: undefined }), { action: 'start' });
});
