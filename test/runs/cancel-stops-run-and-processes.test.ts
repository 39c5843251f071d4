import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import {
  publish,
  readJournal,
  startRun,
  step,
  stepCommand,
  tempJournal,
  waitFor,
  waitForRun,
} from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('POST /api/runs/{id}/cancel stops the run and kills the running step process', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'cancel-me',
    steps: {
      long: { command: stepCommand('long', journal, { sleep: 120_000 }), outputs: { o: { type: 'file' } } },
      next: { command: stepCommand('next', journal, { out: false }), after: ['long'] },
    },
  });
  const runId = await startRun(sluice, 'cancel-me');
  const started = await waitFor('the long step to start', () =>
    readJournal(journal).find((e) => e.name === 'long'),
  );

  const res = await sluice.api(`/api/runs/${runId}/cancel`, { method: 'POST' });
  assert.equal(res.status, 202);
  const run = await waitForRun(sluice, runId, 20_000);
  assert.equal(run.status, 'Canceled');
  assert.equal(step(run, 'long').status, 'Canceled');
  assert.equal(step(run, 'next').status, 'Skipped');
  await waitFor(
    'the step process to die',
    () => {
      try {
        process.kill(started.pid, 0);
        return undefined;
      } catch {
        return true;
      }
    },
    15_000,
  );
  assert.equal(readJournal(journal).filter((e) => e.what === 'end').length, 0);

  const again = await sluice.api(`/api/runs/${runId}/cancel`, { method: 'POST' });
  assert.equal(again.status, 409, 'a finished run cannot be canceled again');
  assert.equal(again.headers.get('content-type'), 'application/problem+json');
});
