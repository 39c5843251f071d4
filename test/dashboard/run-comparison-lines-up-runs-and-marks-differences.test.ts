import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns } from '../../lib/runs/compare';
import { metricItem, seriesOfSteps } from '../../lib/runs/metrics-query';
import type { RunDoc, StepRecord } from '../../lib/runs/store';

const step = (name: string, extra: Partial<StepRecord> = {}): StepRecord => ({
  name,
  status: 'Completed',
  attempts: 1,
  ...extra,
});

function run(id: string, parameters: Record<string, unknown>, steps: StepRecord[]): RunDoc {
  return {
    id,
    runId: id,
    type: 'run',
    pipeline: 'p',
    version: 1,
    definitionHash: 'sha256:x',
    status: 'Completed',
    parameters,
    inputs: {},
    resolvedInputs: {},
    tags: {},
    trigger: { type: 'rest' },
    forceRerun: false,
    continueOnStepFailure: false,
    maxConcurrency: 4,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:05Z',
    steps: Object.fromEntries(steps.map((s) => [s.name, s])),
  };
}

const cache = (key: string, decision: 'run' | 'reused' = 'run') => ({
  key,
  decision,
  reason: decision,
  components: {} as never,
});

test('a comparison has one cell per run in the order asked, marks differing parameters, cache keys and metrics, and fills gaps with null', () => {
  const a = run('a', { epochs: 10, lr: 0.5 }, [
    step('prep', { cache: cache('k1') }),
    step('train', {
      cache: cache('k2'),
      metrics: [
        { name: 'loss', value: 0.9 },
        { name: 'loss', value: 0.4 },
      ],
    }),
  ]);
  const b = run('b', { epochs: 20, lr: 0.5, extra: true }, [
    step('prep', {
      status: 'Reused',
      cache: cache('k1', 'reused'),
      reusedFrom: { runId: 'a', step: 'prep' },
    }),
    step('train', { cache: cache('k3'), metrics: [{ name: 'loss', value: 0.3 }] }),
    step('report'),
  ]);
  const c = compareRuns([b, a]);
  assert.deepEqual(
    c.runs.map((r) => [r.runId, r.durationMs]),
    [
      ['b', 5000],
      ['a', 5000],
    ],
  );
  assert.deepEqual(
    c.parameters.map((p) => [p.name, p.values, p.differs]),
    [
      ['epochs', [20, 10], true],
      ['lr', [0.5, 0.5], false],
      ['extra', [true, null], true],
    ],
  );
  assert.deepEqual(
    c.steps.map((s) => [s.name, s.differs]),
    [
      ['prep', false],
      ['train', true],
      ['report', true],
    ],
  );
  assert.equal(c.steps[0]!.values[0]!.reusedFrom, 'a');
  assert.equal(c.steps[2]!.values[1], null);
  assert.deepEqual(c.metrics, [
    { name: 'train.loss', step: 'train', metric: 'loss', values: [0.3, 0.4], differs: true },
  ]);
  assert.equal(c.mixedPipelines, false);
});

test('metric series keep logged order, use the logged step as x, skip non-numbers, and a pipeline row reduces one metric per step', () => {
  const s = seriesOfSteps([
    step('train', {
      metrics: [
        { name: 'loss', value: 3, step: 5 },
        { name: 'acc', value: 0.5 },
        { name: 'loss', value: 1, step: 10 },
        { name: 'loss', value: Number.NaN },
      ],
    }),
  ]);
  assert.deepEqual(
    s.map((x) => [x.name, x.points.map((p) => [p.x, p.value]), x.last, x.min, x.max]),
    [
      [
        'loss',
        [
          [5, 3],
          [10, 1],
        ],
        1,
        1,
        3,
      ],
      ['acc', [[0, 0.5]], 0.5, 0.5, 0.5],
    ],
  );
  const row = metricItem(
    {
      runId: 'r',
      version: 1,
      status: 'Completed',
      createdAt: 't',
      parameters: {},
      steps: { a: step('a', { metrics: [{ name: 'loss', value: 2 }] }), b: step('b') },
    },
    'loss',
  );
  assert.deepEqual(row.values, [{ step: 'a', last: 2, min: 2, max: 2, count: 1 }]);
});
