import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { docsStep, publish, startRun, step, tempJournal, waitForRun } from './helpers';

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
  return {
    name,
    steps: {
      make: docsStep(5),
      score: {
        kind: 'parallelRun',
        input: '${{steps.make.outputs.docs}}',
        miniBatchSize: 2,
        // The batch holding f4.txt fails the first time it runs (the marker lives outside the host). Match the
        // file name, not "f4": a random temp folder in the listed paths may hold those two characters.
        command:
          `echo run $(date +%s%3N) >> ${journal}; ` +
          `if grep -q '/f4[.]txt$' \${{minibatch}} && [ ! -e ${marker} ]; then touch ${marker}; echo boom >&2; echo fail $(date +%s%3N) >> ${journal}; exit 3; fi; ` +
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
  const lines = fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean);
  const runs = lines.filter((l) => l.startsWith('run ')).map((l) => Number(l.split(' ')[1]));
  assert.equal(runs.length, 4, '3 batches + 1 retry');
  // The retry waits for the step's back-off (2 s after a first failure), as a whole step's retry does.
  const failedAt = Number(lines.find((l) => l.startsWith('fail '))!.split(' ')[1]);
  assert.ok(
    Math.max(...runs) - failedAt >= 1900,
    `the retry started ${Math.max(...runs) - failedAt} ms after`,
  );
  const text = await (await sluice.api(`/api/runs/${ok.runId}/steps/score/outputs/scores`)).text();
  assert.equal(text, 'f0\nf1\nf2\nf3\nf4\n');
  const retried = step(ok, 'score');
  assert.deepEqual(retried.batches, { total: 3, running: 0, succeeded: 3, failed: 0 });
  assert.deepEqual(
    retried.batchErrors?.map((e) => [e.batch, e.attempt, e.code]),
    [[2, 1, 'exit-code']],
    'the failed attempt stays on the record after its retry succeeded',
  );

  // Each batch keeps its own log per attempt; without ?batch the step's log shows every batch's latest.
  const logs = `/api/runs/${ok.runId}/steps/score/logs`;
  const firstTry = await sluice.api(`${logs}?batch=2&attempt=1`);
  assert.match(await firstTry.text(), /^boom$/m);
  const latest = await sluice.api(`${logs}?batch=2`);
  assert.equal(latest.headers.get('x-sluice-log-source'), `${ok.runId}/score/batch-2/2`);
  assert.doesNotMatch(await latest.text(), /^boom$/m);
  const overview = await (await sluice.api(logs)).text();
  assert.deepEqual(overview.match(/^==> .* <==$/gm), [
    '==> batch 0, attempt 1 <==',
    '==> batch 1, attempt 1 <==',
    '==> batch 2, attempt 2 <==',
  ]);
  const problemsOf = async (query: string): Promise<string[][]> => {
    const res = await sluice.api(`${logs}?${query}`);
    assert.equal(res.status, 400, query);
    const problem = (await res.json()) as { errors: Array<{ pointer: string; message: string }> };
    return problem.errors.map((e) => [e.pointer, e.message]);
  };
  assert.deepEqual(await problemsOf('batch=3&attempt=0'), [
    ['/query/batch', 'batch is from 0 to 2'],
    ['/query/attempt', 'attempt is an integer from 1'],
  ]);
  assert.deepEqual(await problemsOf('attempt=1&follow=true'), [
    ['/query/follow', 'step "score" runs 3 mini-batches or trials: follow one with batch=N'],
    ['/query/attempt', 'step "score" runs mini-batches or trials, each with its own attempts: add batch=N'],
  ]);

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
  assert.deepEqual(s.batches, { total: 3, running: 0, succeeded: 2, failed: 1 });
  assert.deepEqual(
    s.batchErrors?.map((e) => [e.batch, e.attempt, e.code]),
    [[2, 1, 'exit-code']],
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
