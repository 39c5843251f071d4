import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runtimeDir } from '../../lib/automl/runtime-code';
import { builtinAutomlPython } from './builtin-environment';

// The Python runtime by itself, as an agent runs it: the real FLAML, scikit-learn and LightGBM, in the
// built-in environment that lib/environments builds (uv) and caches.
const exec = promisify(execFile);
const env = builtinAutomlPython();
const python = async (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) => {
  const e = await env;
  return exec(e.python, args, { maxBuffer: 1 << 24, ...opts, env: { ...e.run, ...(opts.env ?? {}) } });
};
const py = (args: string[], config: Record<string, unknown>, cwd: string) =>
  python([join(runtimeDir(), 'automl_runtime.py'), ...args], {
    cwd,
    env: { SLUICE_AUTOML_CONFIG: JSON.stringify(config) },
  });

const PREPARE = `
import sys
import numpy as np, pandas as pd
from sklearn.datasets import load_breast_cancer
d = load_breast_cancer(as_frame=True).frame
d["diagnosis"] = d.pop("target").map({0: "malignant", 1: "benign"})
d.to_csv(sys.argv[1] + "/cancer.csv", index=False)
rng = np.random.default_rng(0)
rows = [{"date": str(t.date()), "store": s, "promo": int(rng.random() < 0.3), "sales": (10 if s == "a" else 20) + t.day_of_week * 2 + rng.normal()}
        for s in "ab" for t in pd.date_range("2024-01-01", periods=60, freq="D")]
pd.DataFrame(rows).to_csv(sys.argv[1] + "/sales.csv", index=False)
`;

const base = {
  task: 'classification',
  labelColumn: 'diagnosis',
  metric: 'AUC_weighted',
  goal: 'maximize',
  featurization: { mode: 'auto' },
  validationSize: 0.25,
  earlyStop: false,
  ensemble: true,
  seed: 42,
};

const trialsOf = (dir: string) =>
  readFileSync(join(dir, 'trials.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) => JSON.parse(l) as { hyperparameters: unknown; metrics: Record<string, number>; status: string },
    );

test('maxTrials without a time budget gives the same trials and model twice; the gather writes an MLflow-format ensemble that joblib loads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-automl-runtime-'));
  await python(['-c', PREPARE, dir]);
  const lgbm = { ...base, family: 'LightGBM', estimators: ['lgbm'], maxIter: 4 };
  await py(['family', '--train', 'cancer.csv', '--out', 'a'], lgbm, dir);
  await py(['family', '--train', 'cancer.csv', '--out', 'b'], lgbm, dir);
  const a = trialsOf(join(dir, 'a'));
  assert.equal(a.length, 4);
  assert.deepEqual(
    trialsOf(join(dir, 'b')).map((t) => [t.hyperparameters, t.metrics]),
    a.map((t) => [t.hyperparameters, t.metrics]),
    'the same trials, hyperparameters and metrics',
  );
  await py(
    ['family', '--train', 'cancer.csv', '--out', 'lr'],
    { ...base, family: 'LogisticRegression', estimators: ['lrl2'], maxIter: 2 },
    dir,
  );
  await py(
    [
      'gather',
      '--families',
      'a',
      'lr',
      '--best-model',
      'model',
      '--leaderboard',
      'board.jsonl',
      '--featurization',
      'feat.json',
    ],
    { ...base, familyStatus: { XGBoost: { status: 'TimedOut', message: 'timed out after 30 s' } } },
    dir,
  );
  for (const f of [
    'MLmodel',
    'model.pkl',
    'requirements.txt',
    'conda.yaml',
    'python_env.yaml',
    'code/sluice_automl_model.py',
  ])
    assert.ok(existsSync(join(dir, 'model', f)), f);
  assert.match(readFileSync(join(dir, 'model', 'MLmodel'), 'utf8'), /loader_module: sluice_automl_model/);
  assert.match(readFileSync(join(dir, 'model', 'MLmodel'), 'utf8'), /sluice_chosen: .*ensemble/);
  const board = readFileSync(join(dir, 'board.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { rank: number; family: string; status: string });
  assert.equal(board.length, 7, 'six trials and the timed-out family');
  assert.deepEqual(board.at(-1), {
    rank: 7,
    family: 'XGBoost',
    status: 'TimedOut',
    error: 'timed out after 30 s',
  });
  const check = await python(
    [
      '-c',
      'import sys, joblib, pandas as pd; sys.path.insert(0, "model/code"); m = joblib.load("model/model.pkl"); d = pd.read_csv("cancer.csv"); print((m.predict(d) == d["diagnosis"]).mean())',
    ],
    { cwd: dir },
  );
  assert.ok(Number(check.stdout) > 0.9, `accuracy ${check.stdout}`);
});

test('forecasting holds out the last horizon of every series and featurizes the time column and series ids', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-automl-forecast-'));
  await python(['-c', PREPARE, dir]);
  await py(
    ['family', '--train', 'sales.csv', '--out', 'f'],
    {
      ...base,
      task: 'forecasting',
      labelColumn: 'sales',
      metric: 'normalized_root_mean_squared_error',
      goal: 'minimize',
      validationSize: undefined,
      timeColumn: 'date',
      horizon: 7,
      seriesIdColumns: ['store'],
      family: 'LightGBM',
      estimators: ['lgbm'],
      maxIter: 3,
    },
    dir,
  );
  const summary = JSON.parse(readFileSync(join(dir, 'f', 'summary.json'), 'utf8')) as {
    status: string;
    score: number;
  };
  assert.equal(summary.status, 'Completed');
  assert.ok(summary.score < 0.3, `normalized RMSE ${summary.score}`);
  const feat = JSON.parse(readFileSync(join(dir, 'f', 'featurization.json'), 'utf8')) as {
    columns: Array<{ column: string; type: string }>;
  };
  assert.deepEqual(
    feat.columns.map((c) => [c.column, c.type]),
    [
      ['date', 'datetime'],
      ['store', 'categorical'],
      ['promo', 'numeric'],
    ],
  );
});

test('a family job spends its wait and start-up out of its share: FLAML gets what is left since the job was created', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-automl-budget-'));
  await python(['-c', PREPARE, dir]);
  const share = 12;
  const config = { ...base, family: 'RandomForest', estimators: ['rf'], timeBudgetS: share };
  // The engine created the job 10 s ago; 8 s of that went on getting its environment (a first build),
  // which is not the search's to pay: 2 s of waiting (for an agent, for its inputs) remain.
  await python([join(runtimeDir(), 'automl_runtime.py'), 'family', '--train', 'cancer.csv', '--out', 'r'], {
    cwd: dir,
    env: {
      SLUICE_AUTOML_CONFIG: JSON.stringify(config),
      SLUICE_AUTOML_JOB_CREATED_AT: (Date.now() / 1000 - 10).toFixed(3),
      SLUICE_ENVIRONMENT_MS: '8000',
    },
  });
  const s = JSON.parse(readFileSync(join(dir, 'r', 'summary.json'), 'utf8')) as Record<string, number>;
  assert.equal(s.status as unknown, 'Completed');
  assert.equal(s.shareS, share);
  // Start-up (interpreter, imports of pandas/numpy, reading and featurizing the table) is measured from
  // the process's start; the wait from the job's creation, less the environment's. Both are taken off
  // what FLAML is given (1.9: the process start, as the OS reports it, is coarser than the wall clock).
  assert.ok(s.waitS! >= 1.9 && s.waitS! < 9, `waited ${s.waitS}: the environment's 8 s are left out`);
  assert.ok(s.startupS! > 0, `start-up ${s.startupS}`);
  assert.ok(
    Math.abs(s.searchBudgetS! - Math.max(1, share - s.waitS! - s.startupS! - 0.5)) < 0.02,
    `FLAML budget ${s.searchBudgetS} = share ${share} − wait ${s.waitS} − start-up ${s.startupS} − 0.5 s finish reserve`,
  );
  for (const phase of ['searchS', 'finishS', 'seconds']) assert.equal(typeof s[phase], 'number', phase);
});
