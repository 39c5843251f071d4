import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { startAgent, type RunningAgent } from '../../lib/compute/agent';
import { enqueueJob, markLost, readJob } from '../../lib/compute/jobs';
import { jobSpec, processAlive, waitFor } from './support';

let stack: TestStack;
let agent: RunningAgent;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-lost-late-'));
  // A heartbeat far apart, as from an agent that is alive but cut off: the orchestration gives up on it.
  agent = startAgent({
    pool: 'late',
    workDir: join(tmp, 'work'),
    heartbeatMs: 600_000,
    killGraceMs: 500,
    log: () => {},
  });
  await agent.ready;
});

after(async () => {
  await agent?.stop();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('a job failed as lost by the orchestration is killed by the agent still running it, and stays lost', async () => {
  const pidFile = join(tmp, 'job.pid');
  const spec = jobSpec('late', { command: `echo $$ > ${pidFile}; exec sleep 300` });
  await enqueueJob(spec);
  const pid = Number(
    await waitFor('the job to start', async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim()),
  );
  await new Promise((r) => setTimeout(r, 20)); // let the heartbeat age past the 10 ms limit below

  const lost = await markLost(spec.runId, spec.jobId, 10);
  assert.equal(lost?.failure?.code, 'lost');
  await waitFor('the agent to kill the process', async () => !processAlive(pid), 10_000);
  await waitFor('the agent to finish the job', async () => agent.running() === 0, 10_000);
  const row = (await readJob(spec.runId, spec.jobId))!;
  assert.equal(row.state, 'failed');
  assert.equal(row.result!.failure!.code, 'lost', 'the late agent did not overwrite the lost result');
});
