import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

function pipeline(
  name: string,
  marker: string,
  extra: Record<string, unknown>,
  journal = '/dev/null',
): unknown {
  const files = Array.from({ length: 5 }, (_, i) => `f${i}`).join(' ');
  return {
    name,
    steps: {
      make: {
        command: `for f in ${files}; do echo $f > \${{outputs.docs}}/$f.txt; done`,
        outputs: { docs: { type: 'directory' } },
      },
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 2,
        // The batch holding f4.txt fails the first time it runs (the marker lives outside the host). Match the
        // file name, not "f4": a random temp folder in the listed paths may hold those two characters.
        command:
          `echo run >> ${journal}; ` +
          `if grep -q '/f4[.]txt$' \${{minibatch}} && [ ! -e ${marker} ]; then touch ${marker}; echo boom >&2; exit 3; fi; ` +
          'cat $(cat ${{minibatch}}) > ${{outputs.scores}}',
        outputs: { scores: { type: 'file' } },
        ...extra,
      },
    },
  };
}

test('a failed mini-batch is retried alone; without retries it fails the step past the error threshold', async () => {
  const dir = path.dirname(tempJournal());
  const journal = path.join(dir, 'batches.log');
  await publish(sluice, pipeline('batch-retry', path.join(dir, 'retry.marker'), { retries: 1 }, journal));
  const ok = await waitForRun(sluice, await startRun(sluice, 'batch-retry'));
  assert.equal(ok.status, 'Completed', JSON.stringify(ok.steps));
  assert.equal(fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean).length, 4, '3 batches + 1 retry');
  const text = await (await sluice.api(`/api/runs/${ok.runId}/steps/score/outputs/scores`)).text();
  assert.equal(text, 'f0\nf1\nf2\nf3\nf4\n');

  await publish(sluice, pipeline('batch-fail', path.join(dir, 'fail.marker'), { errorThreshold: 0 }));
  const failed = await waitForRun(sluice, await startRun(sluice, 'batch-fail'));
  assert.equal(failed.status, 'Failed');
  const s = step(failed, 'score');
  assert.equal(s.status, 'Failed');
  assert.equal(s.error?.code, 'exit-code');
  assert.match(
    s.error?.message ?? '',
    /1 of 3 mini-batches of step "score" failed \(errorThreshold 0\); batch 2:/,
  );

  // errorThreshold -1 (the default) tolerates the failed batch: its rows are left out.
  fs.rmSync(path.join(dir, 'fail.marker'));
  await publish(sluice, pipeline('batch-tolerate', path.join(dir, 'fail.marker'), {}));
  const tolerated = await waitForRun(sluice, await startRun(sluice, 'batch-tolerate'));
  assert.equal(tolerated.status, 'Completed', JSON.stringify(tolerated.steps));
  const partial = await (await sluice.api(`/api/runs/${tolerated.runId}/steps/score/outputs/scores`)).text();
  assert.equal(partial, 'f0\nf1\nf2\nf3\n');
  // A partial output is not reused: the next run tries the batches again (and now all succeed).
  const again = await waitForRun(sluice, await startRun(sluice, 'batch-tolerate'));
  assert.equal(step(again, 'score').status, 'Completed');
  const full = await (await sluice.api(`/api/runs/${again.runId}/steps/score/outputs/scores`)).text();
  assert.equal(full, 'f0\nf1\nf2\nf3\nf4\n');
});
