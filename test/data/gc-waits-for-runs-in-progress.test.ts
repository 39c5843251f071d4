import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { startTestStack, type TestStack } from '../support/stack';
import { exists, putStream } from '../../lib/data/cas';
import { ACTIVE_RUN_MARGIN_MS, collectGarbage } from '../../lib/data/gc';
import { createRun, updateRun, type RunDoc } from '../../lib/runs/store';

let stack: TestStack;

before(async () => {
  stack = await startTestStack();
});

after(async () => {
  await stack?.stop();
});

const DAY = 24 * 3600_000;

test('while a run is in progress, content stored since it started is kept, even unreferenced; once it ends, it is collected', async () => {
  // A run that started half an hour ago and is still running: its mini-batch inputs and outputs, say,
  // are known only to its orchestration until the step gathers them.
  const startedAt = Date.now() - 30 * 60_000;
  const doc: RunDoc = {
    id: 'gc-active',
    runId: 'gc-active',
    type: 'run',
    pipeline: 'gc-test',
    version: 1,
    definitionHash: 'sha256:' + '0'.repeat(64),
    status: 'Running',
    parameters: {},
    inputs: {},
    resolvedInputs: {},
    tags: {},
    trigger: { type: 'rest' },
    forceRerun: false,
    continueOnStepFailure: false,
    maxConcurrency: 4,
    createdAt: new Date(startedAt).toISOString(),
    steps: { score: { name: 'score', status: 'Running', attempts: 1 } },
  };
  await createRun(doc);
  const intermediate = await putStream(Readable.from([randomBytes(2000)]));
  const now = Date.now() + 30 * DAY;

  const held = await collectGarbage({ now, graceMs: DAY });
  assert.equal(held.deleted, 0);
  assert.equal(held.keptYoung, 1);
  assert.deepEqual(held.heldBackBy, { runId: 'gc-active', status: 'Running', createdAt: doc.createdAt });
  assert.equal(held.cutoff, new Date(startedAt - ACTIVE_RUN_MARGIN_MS).toISOString());
  assert.equal(await exists(intermediate.hash), true);

  await updateRun('gc-active', (d) => {
    d.status = 'Completed';
    d.steps.score!.status = 'Completed';
  });
  const done = await collectGarbage({ now, graceMs: DAY });
  assert.equal(done.heldBackBy, undefined);
  assert.deepEqual(
    done.collected.map((b) => b.hash),
    [intermediate.hash],
  );
  assert.equal(await exists(intermediate.hash), false);
});
