/**
 * AutoML benchmark (issue 12): the breast-cancer classification of examples/automl, with the same time
 * budget, (a) through Sluice (an automl step: one agent job per model family, then the gather) and
 * (b) FLAML alone in one Python process over the same families, in the same built-in environment. Prints
 * the Sluice leaderboard, both wall times and best AUC_weighted, Sluice's overhead, how far the step
 * overran its budget and where the family jobs' start-up went, and what building the built-in
 * environment costs (fresh cache directory, uv cache warm) against finding it in the cache.
 * Budget: SLUICE_BENCH_AUTOML_BUDGET seconds (default 30).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startSluice } from '../support/sluice';
import { formatLeaderboard } from '../../lib/automl/leaderboard';
import type { LeaderboardRow } from '../../lib/runs/store';
import { builtinAutomlEnvironment } from '../../lib/automl/environment';
import { prepareEnvironment } from '../../lib/environments/builder';
import { normalizeSpec } from '../../lib/environments/spec';
import { builtinAutomlPython } from '../automl/builtin-environment';

const PREPARE = `
import sys
from sklearn.datasets import load_breast_cancer
d = load_breast_cancer(as_frame=True).frame
d["diagnosis"] = d.pop("target").map({0: "malignant", 1: "benign"})
d.to_csv(sys.argv[1], index=False)
`;

// FLAML alone: the same families, metric, validation share and seed, in one process (imports included).
const ALONE = `
import json, sys, time
t0 = time.time()
import pandas as pd
from flaml import AutoML
d = pd.read_csv(sys.argv[1])
y = (d.pop("diagnosis") == "benign").astype(int)
a = AutoML()
a.fit(d, y, task="classification", metric="roc_auc", time_budget=float(sys.argv[2]), seed=42, n_jobs=1,
      estimator_list=["lgbm", "xgboost", "rf", "extra_tree", "lrl1", "lrl2"], eval_method="holdout",
      split_ratio=0.25, verbose=0)
print(json.dumps({"seconds": time.time() - t0, "auc": 1 - a.best_loss, "model": a.best_estimator}))
`;

interface StepView {
  name: string;
  status: string;
  startedAt?: string;
  finishedAt?: string;
  leaderboard?: LeaderboardRow[];
  metrics?: Array<{ name: string; value: number }>;
}

/** Builds the built-in environment into a fresh cache directory (uv's wheel cache stays warm), then finds it. */
async function environmentFigures(): Promise<{ buildS: number; cachedS: number; packages: number }> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'sluice-bench-envs-'));
  try {
    const { spec } = normalizeSpec(builtinAutomlEnvironment());
    const codeDir = mkdtempSync(join(tmpdir(), 'sluice-bench-code-'));
    const built = await prepareEnvironment(spec, { codeDir, cacheDir, log: () => {} });
    built.release();
    const found = await prepareEnvironment(spec, { codeDir, cacheDir, log: () => {} });
    found.release();
    return { buildS: built.ms / 1000, cachedS: found.ms / 1000, packages: built.lock.length };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const budget = Number(process.env.SLUICE_BENCH_AUTOML_BUDGET ?? 30);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-automl-'));
  const csv = join(dir, 'cancer.csv');
  const env = await builtinAutomlPython();
  const envFigures = await environmentFigures();
  const py = (args: string[]) => promisify(execFile)(env.python, args, { env: env.run, maxBuffer: 1 << 24 });
  await py(['-c', PREPARE, csv]);

  const alone = JSON.parse(
    (await py(['-c', ALONE, csv, String(budget)])).stdout.trim().split('\n').at(-1)!,
  ) as { seconds: number; auc: number; model: string };

  const sluice = await startSluice();
  try {
    await sluice.json('/api/pipelines', {
      method: 'POST',
      body: {
        name: 'bench-automl',
        steps: {
          data: {
            args: [
              'python3',
              '-c',
              'import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])',
              csv,
              '${{outputs.table}}',
            ],
            outputs: { table: { type: 'file' } },
          },
          classify: {
            kind: 'automl',
            task: 'classification',
            trainingData: '${{steps.data.outputs.table}}',
            labelColumn: 'diagnosis',
            primaryMetric: 'AUC_weighted',
            validationSize: 0.25,
            allowedModels: [
              'LightGBM',
              'XGBoost',
              'RandomForest',
              'ExtremeRandomTrees',
              'LogisticRegression',
            ],
            limits: { timeout: `${budget}s`, maxConcurrentTrials: 2 },
          },
        },
      },
    });
    const t0 = performance.now();
    const { runId } = await sluice.json<{ runId: string }>('/api/pipelines/bench-automl/runs', {
      method: 'POST',
      body: {},
    });
    let doc: { status: string; steps: StepView[] };
    for (;;) {
      doc = await sluice.json(`/api/runs/${runId}`);
      if (['Completed', 'Failed', 'Canceled'].includes(doc.status)) break;
      await sleep(250);
    }
    const wall = (performance.now() - t0) / 1000;
    if (doc.status !== 'Completed') throw new Error(`the automl run ended ${doc.status}`);
    const step = doc.steps.find((s) => s.name === 'classify')!;
    const stepS = (Date.parse(step.finishedAt!) - Date.parse(step.startedAt!)) / 1000;
    const board = step.leaderboard ?? [];
    console.log(formatLeaderboard(board, 15));
    console.log(`automl.budget_s ${budget}`);
    console.log(`automl.trials ${board.length}`);
    console.log(
      `automl.sluice.best_auc_weighted ${board[0]?.metrics?.AUC_weighted?.toFixed(4)} (${board[0]?.family})`,
    );
    console.log(`automl.sluice.step_wall_s ${stepS.toFixed(1)}`);
    console.log(`automl.sluice.run_wall_s ${wall.toFixed(1)}`);
    console.log(`automl.flaml_alone.best_auc ${alone.auc.toFixed(4)} (${alone.model})`);
    console.log(`automl.flaml_alone.wall_s ${alone.seconds.toFixed(1)}`);
    console.log(
      `automl.sluice_overhead_s ${(stepS - alone.seconds).toFixed(1)} (step wall − FLAML alone wall, same budget)`,
    );
    console.log(
      `automl.budget_overrun_s ${(stepS - budget).toFixed(1)} (step wall − limits.timeout; FLAML alone: ${(alone.seconds - budget).toFixed(1)})`,
    );
    const phase = (p: string) => (step.metrics ?? []).filter((m) => m.name.startsWith(`${p}_s.`));
    for (const p of ['wait', 'startup', 'search', 'finish']) {
      const v = phase(p).map((m) => m.value);
      if (v.length)
        console.log(
          `automl.family_${p}_s mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)} max ${Math.max(...v).toFixed(2)} (${phase(
            p,
          )
            .map((m) => `${m.name.slice(p.length + 3)} ${m.value.toFixed(2)}`)
            .join(', ')})`,
        );
    }
    const gather = (n: string) => step.metrics?.find((m) => m.name === n)?.value;
    console.log(
      `automl.gather_s ${gather('gather_s')?.toFixed(2)} (process start → outputs written; waited ${gather('gather_wait_s')?.toFixed(2)} s from creation)`,
    );
    console.log(
      `automl.environment.build_s ${envFigures.buildS.toFixed(1)} (${envFigures.packages} packages, fresh cache dir, uv cache warm, bytecode compiled)`,
    );
    console.log(`automl.environment.cached_s ${envFigures.cachedS.toFixed(3)}`);
  } finally {
    await sluice.stop();
  }
}
