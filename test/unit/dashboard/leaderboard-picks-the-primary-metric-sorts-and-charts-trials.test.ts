import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  inferPrimary,
  isBest,
  primaryOf,
  sortRows,
  trialSeries,
  type LeaderboardRow,
} from '../../../lib/dashboard/web/src/leaderboard-model';

// The dashboard's leaderboard decisions, on rows shaped as lib/automl/leaderboard.ts writes them.
const automl: LeaderboardRow[] = [
  {
    rank: 1,
    family: 'RandomForest',
    model: 'rf',
    trial: 2,
    metrics: { AUC_weighted: 0.98, accuracy: 0.9 },
    durationS: 0.2,
    status: 'Completed',
  },
  {
    rank: 2,
    family: 'RandomForest',
    model: 'rf',
    trial: 0,
    metrics: { AUC_weighted: 0.96, accuracy: 0.93 },
    durationS: 0.5,
    status: 'Completed',
  },
  {
    rank: 3,
    family: 'LogisticRegression',
    model: 'lrl1',
    trial: 0,
    metrics: { AUC_weighted: 0.9, accuracy: 0.88 },
    status: 'Completed',
  },
  { rank: 4, family: 'XGBoost', status: 'Failed', error: 'timed out' },
];

test('the primary metric comes from the definition, or is inferred from the ranking when there is none (a draft run)', () => {
  const step = { leaderboard: automl };
  assert.deepEqual(primaryOf(step, { kind: 'automl', primaryMetric: 'accuracy' }), {
    metric: 'accuracy',
    goal: 'maximize',
  });
  assert.deepEqual(primaryOf(step, { kind: 'automl', task: 'regression' }), {
    metric: 'normalized_root_mean_squared_error',
    goal: 'minimize',
  });
  assert.deepEqual(primaryOf(step, { kind: 'sweep', metric: 'loss', goal: 'minimize' }), {
    metric: 'loss',
    goal: 'minimize',
  });
  // accuracy is not ordered by rank (0.90 then 0.93); AUC_weighted is.
  assert.deepEqual(primaryOf(step), { metric: 'AUC_weighted', goal: 'maximize' });
  // A sweep without its definition: the chosen trial's metric, its goal read off the ranking.
  const sweep: LeaderboardRow[] = [
    { rank: 1, trial: 3, metrics: { loss: 0.1 }, status: 'Completed' },
    { rank: 2, trial: 0, metrics: { loss: 0.4 }, status: 'Completed' },
  ];
  assert.deepEqual(primaryOf({ leaderboard: sweep, bestTrial: { index: 3, metric: 'loss' } }), {
    metric: 'loss',
    goal: 'minimize',
  });
  assert.equal(inferPrimary([]), undefined);
});

test('the best row is rank 1 when it completed, or the trial a sweep chose', () => {
  assert.deepEqual(
    automl.filter((r) => isBest({}, r)).map((r) => r.rank),
    [1],
  );
  assert.equal(isBest({}, { rank: 1, status: 'Failed' }), false, 'no best when every trial failed');
  const sweep = { bestTrial: { index: 4, metric: 'score' } };
  assert.equal(isBest(sweep, { rank: 1, trial: 4, status: 'Completed' }), true);
  assert.equal(isBest(sweep, { rank: 1, trial: 2, status: 'Completed' }), false);
});

test('sorting by a column keeps rows without a value last in either direction, ties by rank', () => {
  const by = (key: Parameters<typeof sortRows>[1], desc: boolean) =>
    sortRows(automl, key, desc).map((r) => r.rank);
  assert.deepEqual(by('m:accuracy', true), [2, 1, 3, 4]);
  assert.deepEqual(by('m:accuracy', false), [3, 1, 2, 4]);
  assert.deepEqual(by('duration', false), [1, 2, 3, 4]);
  assert.deepEqual(by('duration', true), [2, 1, 3, 4]);
  assert.deepEqual(by('model', false), [3, 1, 2, 4]);
  assert.deepEqual(by('status', true), [4, 1, 2, 3]);
  assert.deepEqual(by('rank', false), [1, 2, 3, 4]);
});

test('the chart shows an automl step per model family, and a sweep in sampling order with the best so far', () => {
  assert.deepEqual(trialSeries(automl, { metric: 'AUC_weighted', goal: 'maximize' }), [
    {
      label: 'RandomForest',
      points: [
        { x: 0, value: 0.96 },
        { x: 2, value: 0.98 },
      ],
    },
    { label: 'LogisticRegression', points: [{ x: 0, value: 0.9 }] },
  ]);
  const sweep: LeaderboardRow[] = [
    { rank: 1, trial: 2, metrics: { loss: 0.1 }, status: 'Completed' },
    { rank: 2, trial: 0, metrics: { loss: 0.3 }, status: 'Completed' },
    { rank: 3, trial: 1, metrics: { loss: 0.5 }, status: 'Completed' },
    { rank: 4, trial: 3, status: 'Failed' },
  ];
  assert.deepEqual(trialSeries(sweep, { metric: 'loss', goal: 'minimize' }), [
    {
      label: 'loss',
      points: [
        { x: 0, value: 0.3 },
        { x: 1, value: 0.5 },
        { x: 2, value: 0.1 },
      ],
    },
    {
      label: 'best so far',
      points: [
        { x: 0, value: 0.3 },
        { x: 1, value: 0.3 },
        { x: 2, value: 0.1 },
      ],
    },
  ]);
});
