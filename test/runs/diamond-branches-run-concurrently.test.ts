import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentProcess, type AgentProcess } from '../compute/support';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, readJournal, startRun, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
let agent: AgentProcess;
before(async () => {
  sluice = await startSluice();
  // A second agent for pool "local", as a separate process: the host's own agent runs one job at a time.
  agent = startAgentProcess('local', { ...sluice.env, SLUICE_ENDPOINT: sluice.baseUrl }, [
    '--heartbeat-ms',
    '500',
  ]);
});
after(async () => {
  await agent?.stop();
  await sluice?.stop();
});

test('a diamond DAG runs its two branches at the same time, then joins them', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'diamond',
    settings: { maxConcurrency: 4 },
    steps: {
      top: { command: stepCommand('top', journal), outputs: { o: { type: 'file' } } },
      left: {
        command: stepCommand('left', journal, { ins: ['x'], sleep: 3000 }),
        inputs: { x: '${{steps.top.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
      right: {
        command: stepCommand('right', journal, { ins: ['x'], sleep: 3000 }),
        inputs: { x: '${{steps.top.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
      join: {
        command: stepCommand('join', journal, { ins: ['l', 'r'] }),
        inputs: { l: '${{steps.left.outputs.o}}', r: '${{steps.right.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'diamond'));
  assert.equal(run.status, 'Completed', JSON.stringify(run));
  for (const s of ['top', 'left', 'right', 'join']) assert.equal(step(run, s).status, 'Completed');

  const j = readJournal(journal);
  const at = (name: string, what: string): number => j.find((e) => e.name === name && e.what === what)!.t;
  // The branches' process time windows overlap: each started before the other ended.
  assert.ok(
    at('left', 'start') < at('right', 'end') && at('right', 'start') < at('left', 'end'),
    JSON.stringify(j),
  );
  // The join started after both branches ended, and the branches after the top.
  assert.ok(at('join', 'start') >= Math.max(at('left', 'end'), at('right', 'end')));
  assert.ok(Math.min(at('left', 'start'), at('right', 'start')) >= at('top', 'end'));

  const out = await sluice.api(`/api/runs/${run.runId}/steps/join/outputs/o`);
  assert.equal(out.status, 200);
  assert.match(await out.text(), /^join\(\)\[left\(\)\[top\(\)\[\]\]right\(\)\[top\(\)\[\]\]\]$/);
});
