import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gridSize, sweepTrials } from '../../lib/runs/sweep-plan';
import { curveOf, trialsToStop } from '../../lib/runs/early-termination';
import {
  planFamilies,
  familySlots,
  automlKeyText,
  GATHER_RESERVE_S,
  MIN_FAMILY_SHARE_S,
  familyTimeoutMs,
} from '../../lib/automl/plan';
import { automlJob, familyBatchParams } from '../../lib/automl/jobs';
import { validateDefinition } from '../../lib/pipelines/validate';
import { resolveNumericFields } from '../../lib/pipelines/numeric-fields';
import type { AutomlStep } from '../../lib/pipelines/automl-schema';
import type { PipelineDefinition } from '../../lib/pipelines/schema';

const space = {
  lr: { type: 'choice' as const, values: [0.1, 0.01, 0.001] },
  depth: { type: 'choice' as const, values: [2, 4] },
};

test('a grid sweep runs every combination once, and maxTotalTrials cuts it', () => {
  const all = sweepTrials(space, 'grid', undefined);
  assert.equal(all.length, gridSize(space));
  assert.equal(new Set(all.map((t) => JSON.stringify(t))).size, 6);
  assert.equal(sweepTrials(space, 'grid', 4).length, 4);
});

test('a random sweep is the same for the same seed and different for another', () => {
  const s = { x: { type: 'uniform' as const, min: 0, max: 1 }, n: { type: 'int' as const, min: 1, max: 3 } };
  const a = sweepTrials(s, 'random', 20, 1);
  assert.deepEqual(sweepTrials(s, 'random', 20, 1), a);
  assert.notDeepEqual(sweepTrials(s, 'random', 20, 2), a);
  assert.ok(a.every((t) => (t.x as number) >= 0 && (t.x as number) < 1 && [1, 2, 3].includes(t.n as number)));
});

test('bandit stops a running trial outside the slack of the best at its step; median stopping compares with running averages', () => {
  const good = { index: 0, running: false, points: [1, 2, 3].map((step) => ({ step, value: 0.9 })) };
  const close = { index: 1, running: true, points: [{ step: 2, value: 0.8 }] };
  const bad = { index: 2, running: true, points: [{ step: 2, value: 0.5 }] };
  const bandit = { policy: 'bandit' as const, slackFactor: 0.2, evaluationInterval: 1, delayEvaluation: 0 };
  assert.deepEqual(trialsToStop(bandit, 'maximize', [good, close, bad]), [2]);
  assert.deepEqual(trialsToStop({ ...bandit, delayEvaluation: 3 }, 'maximize', [good, close, bad]), []);
  assert.deepEqual(trialsToStop(bandit, 'maximize', [bad]), [], 'alone, never stopped');
  const median = { policy: 'medianStopping' as const, evaluationInterval: 1, delayEvaluation: 0 };
  assert.deepEqual(trialsToStop(median, 'maximize', [good, close, bad]), [2]);
  assert.deepEqual(trialsToStop(median, 'minimize', [good, close, bad]), [1]);
  assert.deepEqual(
    curveOf(
      [
        { name: 'acc', value: 1, step: 2 },
        { name: 'acc', value: 0.5, step: 1 },
        { name: 'loss', value: 3, step: 1 },
        { name: 'acc', value: 9 },
      ],
      'acc',
    ),
    [
      { step: 1, value: 0.5 },
      { step: 2, value: 1 },
    ],
  );
});

const automl = (over: Partial<AutomlStep> = {}): AutomlStep =>
  ({
    kind: 'automl',
    task: 'classification',
    trainingData: 'x@1',
    labelColumn: 'y',
    featurization: 'auto',
    ensemble: false,
    seed: 42,
    reuse: true,
    retries: 0,
    limits: { timeout: '60s', enableEarlyTermination: true },
    ...over,
  }) as AutomlStep;

test('an automl search is cut into one job per family, each with its share of the budget or of maxTrials', () => {
  const plans = planFamilies(
    automl({ limits: { timeout: '60s', maxConcurrentTrials: 2, enableEarlyTermination: true } }),
    8,
  );
  assert.deepEqual(
    plans.map((p) => p.family),
    ['LightGBM', 'XGBoost', 'RandomForest', 'ExtremeRandomTrees', 'LogisticRegression'],
  );
  assert.deepEqual(plans[4]!.estimators, ['lrl1', 'lrl2']);
  assert.ok(
    plans.every((p) => p.timeBudgetS === Math.floor(((60 - GATHER_RESERVE_S) / 3) * 10) / 10),
    'three waves of two jobs share the budget less the gather reserve',
  );
  const tiny = planFamilies(automl({ limits: { timeout: '5s', enableEarlyTermination: true } }), 1);
  assert.ok(
    tiny.every((p) => p.timeBudgetS === MIN_FAMILY_SHARE_S),
    'a budget too small for its waves still gives each family job time to start',
  );
  const exact = planFamilies(
    automl({
      allowedModels: ['LightGBM', 'RandomForest'],
      blockedModels: ['RandomForest'],
      limits: { maxTrials: 7, enableEarlyTermination: true },
    }),
    8,
  );
  assert.deepEqual(exact, [{ family: 'LightGBM', estimators: ['lgbm'], maxIter: 7 }]);
  assert.equal(familySlots(automl(), 3), 3);
  assert.notEqual(
    automlKeyText(automl(), 8),
    automlKeyText(automl({ limits: { timeout: '30s', enableEarlyTermination: true } }), 8),
  );
});

test('publish refuses an unknown metric for the task, a model that does not do the task, and an unbounded search', () => {
  const r = validateDefinition({
    name: 'bad-automl',
    steps: {
      train: {
        kind: 'automl',
        task: 'regression',
        trainingData: 'x@1',
        labelColumn: 'y',
        primaryMetric: 'AUC_weighted',
        allowedModels: ['LogisticRegression'],
      },
    },
  });
  assert.equal(r.ok, false);
  const byPointer = Object.fromEntries(r.errors.map((e) => [e.pointer, e.message]));
  assert.match(byPointer['/steps/train/primaryMetric']!, /not a primary metric for regression.*r2_score/);
  assert.match(byPointer['/steps/train/allowedModels/0']!, /does not do regression/);
  assert.match(byPointer['/steps/train/limits']!, /maxTrials/);
});

test('numeric fields take parameters, checked against the field’s range when a run starts', () => {
  const r = validateDefinition({
    name: 'numeric-params',
    parameters: { n: { type: 'integer', default: 3 }, t: { type: 'string', default: '30s' } },
    steps: {
      s: { command: 'true', retries: '${{parameters.n}}', timeout: '${{parameters.t}}' },
      p: {
        kind: 'parallelRun',
        input: 'x@1',
        command: 'cat ${{minibatch}}',
        miniBatchSize: '${{parameters.n}}',
      },
      q: { command: 'true', retries: '${{parameters.missing}}' },
    },
  });
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.errors.map((e) => e.pointer),
    ['/steps/q/retries'],
  );
  const def = validateDefinition({
    name: 'numeric-params',
    parameters: { n: { type: 'integer', default: 3 }, t: { type: 'string', default: '30s' } },
    steps: {
      s: { command: 'true', retries: '${{parameters.n}}', timeout: '${{parameters.t}}' },
      p: {
        kind: 'parallelRun',
        input: 'x@1',
        command: 'cat ${{minibatch}}',
        miniBatchSize: '${{parameters.n}}',
      },
    },
  }).definition as PipelineDefinition;
  const ok = resolveNumericFields(def, { n: 3, t: '30s' });
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.definition.steps.s!.retries, 3);
  assert.equal(ok.definition.steps.s!.timeout, '30s');
  const bad = resolveNumericFields(def, { n: 11, t: 'soon' });
  assert.deepEqual(bad.problems.map((p) => p.pointer).sort(), ['/steps/s/retries', '/steps/s/timeout']);
  assert.match(
    bad.problems.find((p) => p.pointer === '/steps/s/retries')!.message,
    /\$\{\{parameters\.n\}\} = 11/,
  );
});

test("a family job's share runs from when the engine created it, and only its own job carries the clock", () => {
  const def = automl({ limits: { timeout: '60s', maxConcurrentTrials: 2, enableEarlyTermination: true } });
  const plan = planFamilies(def, 8)[0]!;
  const createdAt = '2026-01-02T03:04:05.678Z';
  const job = automlJob(def, familyBatchParams(plan), { inputs: [], timeoutMs: 600_000, createdAt });
  assert.equal(job.env!.SLUICE_AUTOML_JOB_CREATED_AT, (Date.parse(createdAt) / 1000).toFixed(3));
  assert.equal(JSON.parse(job.env!.SLUICE_AUTOML_CONFIG!).timeBudgetS, plan.timeBudgetS);
  assert.equal(job.timeoutMs, familyTimeoutMs(plan), 'twice the share plus a minute, under the step timeout');
  const bare = automlJob(def, familyBatchParams(plan), { inputs: [], timeoutMs: 600_000 });
  assert.equal(
    bare.env!.SLUICE_AUTOML_JOB_CREATED_AT,
    undefined,
    'without a creation time: from process start',
  );
  // The cache key does not see the clock: it is made of the settings and the plan only.
  assert.equal(automlKeyText(def, 8), automlKeyText(def, 8));
});
