import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listJobs } from '../../lib/compute/jobs';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { getRun, ROOT, sluiceCli, step, type RunView } from './helpers';

let sluice: SluiceProcess;
let dir: string;

before(async () => {
  sluice = await startSluice();
  // Job rows (each trial's reported metrics) are read from the stack's table storage.
  Object.assign(process.env, sluice.env);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-churn-sweep-'));
  for (const example of ['churn', 'batch-scoring'])
    fs.cpSync(path.join(ROOT, 'examples', example), path.join(dir, example), { recursive: true });
});
after(async () => {
  await sluice?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => sluiceCli(sluice)(...args);
const runIdOf = (stdout: string) => /run (r-\w+) started/.exec(stdout)![1]!;

test('the churn sweep publishes its best trial’s model as churn-model, batch scoring scores with it, and a rerun is all Reused', async () => {
  assert.match((await cli('publish', path.join(dir, 'churn', 'sweep.yaml'))).stdout, /churn-sweep@1/);
  const first = await cli('run', 'churn-sweep', '--wait');
  const firstId = runIdOf(first.stdout);
  const r1 = await getRun(sluice, firstId);
  assert.equal(r1.status, 'Completed', JSON.stringify(r1.steps));

  // Six trials ran; the winner is the trial with the lowest held-out log loss any trial reported.
  const sweep = step(r1, 'sweep');
  assert.equal(sweep.status, 'Completed');
  assert.deepEqual(sweep.batches, { total: 6, running: 0, succeeded: 6, failed: 0 });
  const trials = (await listJobs(firstId))
    .filter((j) => j.stepName === 'sweep' && j.state === 'succeeded')
    .map((j) => ({
      id: j.jobId,
      loss: j.result!.metrics.filter((m) => m.name === 'log_loss').at(-1)!.value,
    }));
  assert.equal(trials.length, 6, JSON.stringify(trials));
  const best = trials.reduce((a, b) => (b.loss < a.loss ? b : a));
  assert.ok(
    trials.some((t) => t.loss > best.loss),
    `the search space makes a difference: ${JSON.stringify(trials)}`,
  );
  const winner = sweep.bestTrial!;
  assert.equal(winner.metric, 'log_loss');
  assert.equal(winner.value, best.loss);
  assert.equal(best.id, `sweep.b${winner.index}.1`, 'the winner is the trial that reported the best value');
  assert.equal(sweep.metrics!.filter((m) => m.name === 'log_loss').at(-1)!.value, winner.value);
  assert.ok(sweep.metrics!.find((m) => m.name === 'auc')!.value > 0.7, 'the winner also ranks well');

  // The step's model is the winner's: trained with the winning parameters, carrying its standardisation.
  const modelHash = sweep.outputs!.model!.hash;
  const model = (await sluice.json(`/api/runs/${firstId}/steps/sweep/outputs/model`)) as {
    features: string[];
    weights: number[];
    bias: number;
    mean: number[];
    std: number[];
    epochs: number;
    learningRate: number;
  };
  assert.equal(model.epochs, winner.parameters.epochs);
  assert.equal(model.learningRate, winner.parameters.learningRate);
  assert.equal(model.weights.length, model.features.length);
  assert.equal(model.mean.length, model.features.length);
  assert.equal(model.std.length, model.features.length);

  // publish-model registered exactly that content as churn-model@1.
  const published = step(r1, 'publish-model');
  assert.equal(published.status, 'Completed');
  assert.equal(published.outputs!.data!.hash, modelHash);
  const ds = await sluice.json<{ version: number; hash: string; type: string }>(
    '/api/datasets/churn-model/versions/latest',
  );
  assert.deepEqual([ds.version, ds.hash, ds.type], [1, modelHash, 'file']);

  // Batch scoring binds churn-model@latest by default, and scores raw customer rows with it.
  assert.match(
    (await cli('publish', path.join(dir, 'batch-scoring', 'pipeline.yaml'))).stdout,
    /batch-scoring@1/,
  );
  await cli('datasets', 'register', 'customers', path.join(dir, 'churn', 'data', 'customers.csv'));
  const scoring = runIdOf((await cli('run', 'batch-scoring', '--wait')).stdout);
  const sr = (await getRun(sluice, scoring)) as RunView & {
    resolvedInputs: Record<string, { hash: string }>;
  };
  assert.equal(sr.status, 'Completed', JSON.stringify(sr.steps));
  assert.equal(sr.resolvedInputs.model!.hash, modelHash);
  const scores = await (await sluice.api(`/api/runs/${scoring}/steps/score/outputs/scores`)).text();
  const churn = Object.fromEntries(
    scores
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .map(([id, , flag]) => [id, flag]),
  );
  // Short tenure, many calls, late payments → churn; long-tenure annual contracts → not. Scoring raw
  // values without the model's mean/std would flag c-104 and c-108 too.
  assert.deepEqual(
    [churn['c-101'], churn['c-105'], churn['c-102'], churn['c-104'], churn['c-106'], churn['c-108']],
    ['1', '1', '0', '0', '0', '0'],
    scores,
  );

  // Nothing changed: every step is Reused from the first run and churn-model gets no new version.
  const second = await cli('run', 'churn-sweep', '--wait');
  const r2 = await getRun(sluice, runIdOf(second.stdout));
  assert.equal(r2.status, 'Completed');
  for (const name of ['prepare', 'sweep', 'publish-model']) {
    assert.equal(step(r2, name).status, 'Reused', name);
    assert.deepEqual(step(r2, name).reusedFrom, { runId: firstId, step: name });
  }
  assert.equal(step(r2, 'sweep').outputs!.model!.hash, modelHash);
  assert.equal((await listJobs(r2.runId)).length, 0, 'no trial (or any job) ran again');
  const again = await sluice.json<{ version: number; hash: string }>(
    '/api/datasets/churn-model/versions/latest',
  );
  assert.deepEqual([again.version, again.hash], [1, modelHash], 'no new dataset version for the same model');
});
