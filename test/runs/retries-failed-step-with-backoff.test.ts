import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, readJournal, startRun, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('a failing step is retried after a back-off until it succeeds within its retries', async () => {
  const journal = tempJournal();
  const counter = path.join(path.dirname(journal), 'attempts');
  await publish(sluice, {
    name: 'flaky',
    steps: {
      flaky: {
        command: stepCommand('flaky', journal, {
          extra: `--attempts-file ${JSON.stringify(counter)} --fail-until-attempt 3`,
        }),
        outputs: { o: { type: 'file' } },
        retries: 2,
      },
      never: {
        command: stepCommand('never', journal, { out: false, extra: '--exit 4' }),
        retries: 1,
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'flaky', { continueOnStepFailure: true }));
  const flaky = step(run, 'flaky') as ReturnType<typeof step> & { attemptErrors?: Array<{ code: string }> };
  assert.equal(flaky.status, 'Completed');
  assert.equal(flaky.attempts, 3);
  assert.deepEqual(
    flaky.attemptErrors?.map((e) => e.code),
    ['exit-code', 'exit-code'],
  );
  const never = step(run, 'never');
  assert.equal(never.status, 'Failed');
  assert.equal(never.attempts, 2, 'one attempt plus one retry');

  const flakyStarts = readJournal(journal).filter((e) => e.name === 'flaky' && e.what === 'start');
  assert.equal(flakyStarts.length, 3);
  // Back-off: the second attempt starts ≥ 2 s after the first failed, the third ≥ 4 s after the second.
  const fails = readJournal(journal).filter((e) => e.name === 'flaky' && e.what === 'fail');
  assert.ok(flakyStarts[1]!.t - fails[0]!.t >= 1900, `first back-off ${flakyStarts[1]!.t - fails[0]!.t} ms`);
  assert.ok(flakyStarts[2]!.t - fails[1]!.t >= 3900, `second back-off ${flakyStarts[2]!.t - fails[1]!.t} ms`);
});
