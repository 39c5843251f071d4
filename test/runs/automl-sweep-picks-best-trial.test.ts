import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('an automl step runs one job per trial and keeps the best trial’s outputs and metrics; a rerun reuses it', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'sweep',
    steps: {
      tune: {
        kind: 'automl',
        task: 'regression',
        metric: 'loss',
        goal: 'minimize',
        trials: 3,
        maxConcurrentTrials: 2,
        searchSpace: { lr: { type: 'choice', values: [1, 2, 3] } },
        command:
          `echo \${{trial.lr}} >> ${JSON.stringify(journal)} && ` +
          `echo "$SLUICE_AUTOML_TASK trial $SLUICE_BATCH" >> ${JSON.stringify(journal + '.env')} && ` +
          `echo "{\\"name\\":\\"loss\\",\\"value\\":$(( (\${{trial.lr}} - 2) * (\${{trial.lr}} - 2) ))}" > "$SLUICE_METRICS" && ` +
          `echo lr=\${{trial.lr}} > \${{outputs.model}}`,
        outputs: { model: { type: 'file' } },
      },
    },
  });

  const first = await waitForRun(sluice, await startRun(sluice, 'sweep'));
  assert.equal(first.status, 'Completed', JSON.stringify(first.steps));
  assert.deepEqual(
    fs.readFileSync(journal, 'utf8').trim().split('\n').sort(),
    ['1', '2', '3'],
    'three trial jobs',
  );
  assert.deepEqual(
    fs
      .readFileSync(journal + '.env', 'utf8')
      .trim()
      .split('\n')
      .sort(),
    ['regression trial 0', 'regression trial 1', 'regression trial 2'],
    'each trial sees the sweep task and its index',
  );
  const tune = step(first, 'tune');
  assert.deepEqual(tune.bestTrial, { index: 1, parameters: { lr: 2 }, metric: 'loss', value: 0 });
  assert.deepEqual(
    tune.metrics?.map((m) => [m.name, m.value]),
    [['loss', 0]],
  );
  const model = await sluice.api(`/api/runs/${first.runId}/steps/tune/outputs/model`);
  assert.equal(await model.text(), 'lr=2\n');

  const second = await waitForRun(sluice, await startRun(sluice, 'sweep'));
  assert.equal(step(second, 'tune').status, 'Reused');
  assert.deepEqual(step(second, 'tune').outputs, tune.outputs);
  assert.equal(fs.readFileSync(journal, 'utf8').trim().split('\n').length, 3, 'no trial ran again');
});
