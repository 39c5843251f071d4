import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentProcess, type AgentProcess } from '../compute/support';
import { startSluice, type SluiceProcess } from '../support/sluice';
import { publish, startRun, step, stepCommand, tempJournal, waitForRun } from './helpers';

let sluice: SluiceProcess;
let agent: AgentProcess;
const TARGETS = JSON.stringify({
  local: { pool: 'local', environment: {} },
  quiet: { pool: 'quiet', environment: {} },
});

before(async () => {
  sluice = await startSluice({ env: { SLUICE_COMPUTE_TARGETS: TARGETS } });
  // No SLUICE_ENDPOINT: this agent reports only to the job table and never raises the completion event.
  const env: Record<string, string> = { ...sluice.env };
  agent = startAgentProcess('quiet', env, ['--heartbeat-ms', '500']);
});
after(async () => {
  await agent?.stop();
  await sluice?.stop();
});

test('a step whose completion event never arrives is found finished by polling the job row', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'no-event',
    steps: {
      quiet: { command: stepCommand('quiet', journal), outputs: { o: { type: 'file' } }, compute: 'quiet' },
      next: {
        command: stepCommand('next', journal, { ins: ['x'] }),
        inputs: { x: '${{steps.quiet.outputs.o}}' },
        outputs: { o: { type: 'file' } },
      },
    },
  });
  const run = await waitForRun(sluice, await startRun(sluice, 'no-event'), 60_000);
  assert.equal(run.status, 'Completed');
  assert.equal(step(run, 'quiet').status, 'Completed');
  assert.equal(step(run, 'next').status, 'Completed');
});
