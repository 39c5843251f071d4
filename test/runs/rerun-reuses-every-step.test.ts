import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, starts, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('running an unchanged pipeline again reuses every step, pointing at the run that computed it', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'reuse-all',
    parameters: { n: { type: integer(), default: 3 } },
    steps: {
      a: {
        command: stepCommand('a', journal, { extra: '--value ${{parameters.n}}' }),
        outputs: { o: { type: 'file' } },
      },
      b: {
        command: stepCommand('b', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.a.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
      c: {
        command: stepCommand('c', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.b.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const first = await waitForRun(sluice, await startRun(sluice, 'reuse-all'));
  assert.equal(first.status, 'Completed');
  for (const s of first.steps) assert.equal(s.cache?.reason, 'no earlier execution of this step');

  const second = await waitForRun(sluice, await startRun(sluice, 'reuse-all'));
  assert.equal(second.status, 'Completed');
  for (const name of ['a', 'b', 'c']) {
    const s = step(second, name);
    assert.equal(s.status, 'Reused', name);
    assert.deepEqual(s.reusedFrom, { runId: first.runId, step: name });
    assert.deepEqual(s.outputs, step(first, name).outputs);
    assert.equal(starts(journal, name), 1, `${name} executed once`);
  }

  // The rerun endpoint resumes too: nothing failed, so nothing runs.
  const rerun = await sluice.json<{ runId: string }>(`/api/runs/${first.runId}/rerun`, { method: 'POST' });
  const third = await waitForRun(sluice, rerun.runId);
  assert.deepEqual(
    third.steps.map((s) => s.status),
    ['Reused', 'Reused', 'Reused'],
  );

  // forceRerun runs everything again.
  const forced = await waitForRun(sluice, await startRun(sluice, 'reuse-all', { forceRerun: true }));
  assert.deepEqual(
    forced.steps.map((s) => s.status),
    ['Completed', 'Completed', 'Completed'],
  );
  assert.equal(step(forced, 'a').cache?.reason, 'forceRerun was set on the run');
  assert.equal(starts(journal, 'a'), 2);
});

function integer(): 'integer' {
  return 'integer';
}
