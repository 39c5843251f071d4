import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, starts, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('rerunning a failed run reuses what succeeded and resumes at the step that failed', async () => {
  const journal = tempJournal();
  const counter = path.join(path.dirname(journal), 'attempts');
  await publish(sluice, {
    name: 'resume',
    parameters: { size: { type: 'integer', default: 10 } },
    steps: {
      fetch: {
        command: stepCommand('fetch', journal, { extra: '--value ${{parameters.size}}' }),
        outputs: { o: { type: 'file' } },
      },
      // Fails on its first execution only (an external hiccup).
      train: {
        command: stepCommand('train', journal, {
          ins: ['x'],
          extra: `--attempts-file ${JSON.stringify(counter)} --fail-until-attempt 2`,
        }),
        inputs: { x: '${{steps.fetch.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
      report: {
        command: stepCommand('report', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.train.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const failed = await waitForRun(sluice, await startRun(sluice, 'resume', { parameters: { size: 42 } }));
  assert.equal(failed.status, 'Failed');
  assert.deepEqual(
    failed.steps.map((s) => s.status),
    ['Completed', 'Failed', 'Skipped'],
  );

  const { runId } = await sluice.json<{ runId: string; rerunOf: string }>(`/api/runs/${failed.runId}/rerun`, {
    method: 'POST',
  });
  const resumed = await waitForRun(sluice, runId);
  assert.equal(resumed.status, 'Completed');
  assert.equal(
    step(resumed, 'fetch').status,
    'Reused',
    'same parameters as the failed run (size 42), so fetch is reused',
  );
  assert.deepEqual(step(resumed, 'fetch').reusedFrom, { runId: failed.runId, step: 'fetch' });
  assert.equal(step(resumed, 'train').status, 'Completed');
  assert.match(
    step(resumed, 'train').cache!.reason,
    new RegExp(`run ${failed.runId} executed this step with the same components but did not succeed`),
  );
  assert.equal(step(resumed, 'report').status, 'Completed');
  assert.deepEqual(
    ['fetch', 'train', 'report'].map((n) => starts(journal, n)),
    [1, 2, 1],
  );
  const doc = await sluice.json<{ rerunOf: string; parameters: Record<string, unknown> }>(
    `/api/runs/${runId}`,
  );
  assert.equal(doc.rerunOf, failed.runId);
  assert.deepEqual(doc.parameters, { size: 42 });
});
