import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, readJournal, startRun, step, stepCommand, tempJournal, waitForRun } from './helpers';

// Only the host's own agent serves pool "local": `bad` and `slow` run at once on it.
let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(async () => {
  await sluice?.stop();
});

test('by default a failed step cancels running steps (killing their processes) and skips what is downstream', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'fail-default',
    steps: {
      bad: { command: stepCommand('bad', journal, { out: false, sleep: 3000, extra: '--exit 1' }) },
      slow: { command: stepCommand('slow', journal, { sleep: 60_000 }), outputs: { o: { type: 'file' } } },
      after_bad: { command: stepCommand('after_bad', journal, { out: false }), after: ['bad'] },
      after_slow: {
        command: stepCommand('after_slow', journal, { ins: ['x'], out: false }),
        inputs: { x: '${{steps.slow.outputs.o}}' },
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'fail-default'));
  assert.equal(run.status, 'Failed');
  assert.equal(step(run, 'bad').status, 'Failed');
  assert.equal(step(run, 'bad').error?.code, 'exit-code');
  assert.equal(step(run, 'slow').status, 'Canceled');
  assert.equal(step(run, 'after_bad').status, 'Skipped');
  assert.equal(step(run, 'after_slow').status, 'Skipped');

  const slow = readJournal(journal).filter((e) => e.name === 'slow');
  assert.deepEqual(
    slow.map((e) => e.what),
    ['start'],
    'slow started and never finished',
  );
  // Its process is gone (killed with its process group), well before its 60 s sleep.
  await new Promise((r) => setTimeout(r, 3000));
  assert.throws(() => process.kill(slow[0]!.pid, 0), /ESRCH/);
  assert.equal(readJournal(journal).filter((e) => e.name.startsWith('after_')).length, 0);
});
