import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeStep, explainStep, type RunView, type StepView } from '../../../lib/runs/watch';

const run: RunView = { runId: 'r-2', pipeline: 'churn-train', version: 3, status: 'Completed', steps: [] };

describe('what the CLI says about a step', () => {
  test('a reused step names its source; a failed one its exit code and error', () => {
    assert.equal(
      describeStep({
        name: 'prep',
        status: 'Reused',
        attempts: 0,
        reusedFrom: { runId: 'r-1', step: 'prep' },
      }),
      'reused from run r-1 (step prep)',
    );
    assert.equal(
      describeStep({
        name: 't',
        status: 'Failed',
        attempts: 2,
        exitCode: 3,
        error: { code: 'exit-code', message: 'boom' },
      }),
      'failed (exit 3): boom',
    );
    assert.equal(
      describeStep({
        name: 'e',
        status: 'Completed',
        attempts: 1,
        metrics: [
          { name: 'loss', value: 0.9 },
          { name: 'loss', value: 0.5 },
          { name: 'auc', value: 0.84 },
        ],
      }),
      'completed  loss=0.5000 auc=0.8400',
    );
  });

  test('a sweep names its winning trial; a batch step in progress counts its batches', () => {
    assert.equal(
      describeStep({
        name: 'sweep',
        status: 'Completed',
        attempts: 1,
        bestTrial: {
          index: 4,
          parameters: { epochs: 100, learningRate: 0.35912 },
          metric: 'log_loss',
          value: 0.4641,
        },
        metrics: [{ name: 'log_loss', value: 0.4641 }],
      }),
      'completed  best trial 4 (epochs=100, learningRate=0.3591): log_loss=0.4641',
    );
    assert.equal(
      describeStep({
        name: 'score',
        status: 'Running',
        attempts: 1,
        batches: { total: 10, running: 2, succeeded: 6, failed: 1, retrying: 1 },
      }),
      'running: 6/10 batches done, 2 running, 1 retrying, 1 failed',
    );
  });

  test('explain lists each changed component since the named run', () => {
    const s: StepView = {
      name: 'train',
      status: 'Completed',
      attempts: 1,
      cache: {
        decision: 'run',
        reason: 'changed since run r-1: parameter epochs: 3 → 5; code: src/train.js changed',
        since: 'r-1',
        key: 'sha256:abc',
        changes: [{ message: 'parameter epochs: 3 → 5' }, { message: 'code: src/train.js changed' }],
      },
    };
    assert.equal(
      explainStep(run, s),
      [
        'run r-2 (churn-train v3), step train: Completed',
        'ran because these changed since run r-1:',
        '  - parameter epochs: 3 → 5',
        '  - code: src/train.js changed',
        'cache key: sha256:abc',
        '',
      ].join('\n'),
    );
  });

  test('explain of a first execution says so', () => {
    const s: StepView = {
      name: 'a',
      status: 'Completed',
      attempts: 1,
      cache: { decision: 'run', reason: 'no earlier execution of this step' },
    };
    assert.match(explainStep(run, s), /ran because: no earlier execution of this step/);
  });
});
