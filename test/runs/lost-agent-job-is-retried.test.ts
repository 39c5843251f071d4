import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgentProcess, type AgentProcess } from '../compute/support';
import { startSluice, type SluiceProcess } from '../support/sluice';
import {
  publish,
  readJournal,
  startRun,
  starts,
  step,
  stepCommand,
  tempJournal,
  waitFor,
  waitForRun,
} from './helpers';

let sluice: SluiceProcess;
const agents: AgentProcess[] = [];
const orphans: number[] = [];
const TARGETS = JSON.stringify({
  local: { pool: 'local', environment: {} },
  remote: { pool: 'remote', environment: { box: 'test' } },
});

before(async () => {
  sluice = await startSluice({ env: { SLUICE_COMPUTE_TARGETS: TARGETS, SLUICE_LOST_AFTER_MS: '2000' } });
});
after(async () => {
  for (const pid of orphans)
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  for (const a of agents) await a.stop();
  await sluice?.stop();
});

test('a job whose agent (a separate process) dies is failed as lost and retried on another agent', async () => {
  const journal = tempJournal();
  await publish(sluice, {
    name: 'lost-agent',
    steps: {
      remote: {
        command: stepCommand('remote', journal, { sleep: 3000 }),
        outputs: { o: { type: 'file' } },
        compute: 'remote',
        retries: 1,
      },
    },
  });
  const env = { ...sluice.env, SLUICE_ENDPOINT: sluice.baseUrl };
  agents.push(startAgentProcess('remote', env, ['--heartbeat-ms', '200']));
  const runId = await startRun(sluice, 'lost-agent');
  const first = await waitFor('the step to start on the first agent', () =>
    readJournal(journal).find((e) => e.name === 'remote'),
  );
  agents[0]!.child.kill('SIGKILL');
  orphans.push(first.pid);
  try {
    process.kill(-first.pid, 'SIGKILL'); // the machine "died": its processes too
  } catch {
    process.kill(first.pid, 'SIGKILL');
  }
  agents.push(startAgentProcess('remote', env, ['--heartbeat-ms', '200']));

  const run = await waitForRun(sluice, runId, 90_000);
  const s = step(run, 'remote') as ReturnType<typeof step> & { attemptErrors?: Array<{ code: string }> };
  assert.equal(run.status, 'Completed', JSON.stringify(run));
  assert.equal(s.attempts, 2);
  assert.deepEqual(
    s.attemptErrors?.map((e) => e.code),
    ['lost'],
  );
  assert.equal(starts(journal, 'remote'), 2);
  assert.equal(readJournal(journal).filter((e) => e.what === 'end').length, 1);
});
