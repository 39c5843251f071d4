import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, waitForRun } from '../runs/helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

// Data is not visible at publish (it is bound when a run starts), so these fail at the step, each with
// a message naming the column or the setting.
test('a missing label column, a label with one class and an empty table each fail their automl step by name', async () => {
  const write =
    'import sys, pathlib\n' +
    'o = sys.argv[1:]\n' +
    "pathlib.Path(o[0]).write_text('a,b,y\\n' + ''.join(f'{i},{i%3},yes\\n' for i in range(30)))\n" +
    "pathlib.Path(o[1]).write_text('a,b,y\\n')\n";
  const automl = (data: string, label: string) => ({
    kind: 'automl',
    task: 'classification',
    trainingData: `\${{steps.data.outputs.${data}}}`,
    labelColumn: label,
    allowedModels: ['LightGBM'],
    limits: { maxTrials: 1 },
  });
  await publish(sluice, {
    name: 'automl-bad-input',
    settings: { continueOnStepFailure: true },
    steps: {
      data: {
        args: ['python3', '-c', write, '${{outputs.oneclass}}', '${{outputs.empty}}'],
        outputs: { oneclass: { type: 'file' }, empty: { type: 'file' } },
      },
      missing: automl('oneclass', 'label'),
      single: automl('oneclass', 'y'),
      empty: automl('empty', 'y'),
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'automl-bad-input'), 180_000);
  assert.equal(run.status, 'Failed');
  assert.match(
    step(run, 'missing').error!.message,
    /labelColumn "label" is not a column of trainingData; its columns: a, b, y/,
  );
  assert.match(step(run, 'single').error!.message, /labelColumn "y" has one class \('yes'\)/);
  assert.match(step(run, 'empty').error!.message, /trainingData is an empty table/);
});
