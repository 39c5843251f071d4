import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, starts, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
before(async () => {
  sluice = await startSluice();
});
after(() => sluice?.stop());

test('changing a parameter one branch uses reruns that branch and its dependants, and says why', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'param-branch',
    parameters: { alpha: { type: 'number', default: 0.1 }, label: { type: 'string', default: 'x' } },
    steps: {
      root: { command: stepCommand('root', journal), outputs: { o: { type: 'file' } } },
      tuned: {
        command: stepCommand('tuned', journal, { ins: ['x'], extra: '--value ${{parameters.alpha}}' }),
        inputs: { x: '${{steps.root.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
      plain: {
        command: stepCommand('plain', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.root.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
      join: {
        command: stepCommand('join', journal, { ins: ['l', 'r'] }),
        inputs: { l: '${{steps.tuned.outputs.o}}', r: '${{steps.plain.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const first = await waitForRun(sluice, await startRun(sluice, 'param-branch'));
  assert.equal(first.status, 'Completed');

  const second = await waitForRun(
    sluice,
    await startRun(sluice, 'param-branch', { parameters: { alpha: 0.5, label: 'y' } }),
  );
  assert.equal(second.status, 'Completed');
  assert.equal(step(second, 'root').status, 'Reused');
  assert.equal(step(second, 'plain').status, 'Reused', 'label is used by no step, alpha only by tuned');
  assert.equal(step(second, 'tuned').status, 'Completed');
  assert.equal(step(second, 'join').status, 'Completed');

  const tuned = step(second, 'tuned').cache!;
  assert.equal(tuned.decision, 'run');
  assert.deepEqual(
    tuned.changes?.map((c) => c.message),
    ['parameter alpha: 0.1 → 0.5'],
  );
  assert.match(
    tuned.reason,
    new RegExp(`^changed since run ${first.runId}: parameter alpha: 0\\.1 → 0\\.5$`),
  );
  const join = step(second, 'join').cache!;
  assert.deepEqual(
    join.changes?.map((c) => c.component),
    ['input'],
  );
  assert.match(join.reason, /input l: sha256:[0-9a-f]{12}… → sha256:[0-9a-f]{12}…/);

  assert.deepEqual(
    ['root', 'plain', 'tuned', 'join'].map((n) => starts(journal, n)),
    [1, 1, 2, 2],
  );
});
