import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { isLost } from '../../lib/compute/job-row';
import { readJob } from '../../lib/compute/jobs';
import { enqueueJob, markLost } from '../../lib/compute/jobs-service';
import { jobSpec, startAgentProcess, waitFor, type AgentProcess } from './support';

let stack: TestStack;
let agent: AgentProcess;
let tmp: string;
let orphanGroup: number | undefined;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-lost-'));
  agent = startAgentProcess('lost', stack.env, ['--work-dir', join(tmp, 'work'), '--heartbeat-ms', '100']);
});

after(async () => {
  if (orphanGroup) {
    try {
      process.kill(-orphanGroup, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await agent?.stop();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('an agent killed mid-job stops heartbeating, so the job row goes stale and can be failed as lost', async () => {
  const pidFile = join(tmp, 'job.pid');
  const spec = jobSpec('lost', { command: `echo $$ > ${pidFile}; sleep 300` });
  await enqueueJob(spec);
  orphanGroup = Number(
    await waitFor('the job to start', async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim()),
  );

  // Heartbeats advance while the agent lives.
  const first = (await readJob(spec.runId, spec.jobId))!.heartbeatAt!;
  await waitFor(
    'a later heartbeat',
    async () => (await readJob(spec.runId, spec.jobId))!.heartbeatAt! > first,
  );

  agent.child.kill('SIGKILL');
  await new Promise((r) => agent.child.once('exit', r));
  const stale = (await readJob(spec.runId, spec.jobId))!;
  await new Promise((r) => setTimeout(r, 1000)); // ten heartbeat intervals
  const later = (await readJob(spec.runId, spec.jobId))!;
  assert.equal(later.state, 'running');
  assert.equal(later.heartbeatAt, stale.heartbeatAt, 'no heartbeat after the agent died');
  assert.equal(isLost(later, Date.parse(later.heartbeatAt!) + 500, 1000), false);
  assert.equal(isLost(later, Date.now(), 500), true);

  const result = await markLost(spec.runId, spec.jobId, 500);
  assert.equal(result?.failure?.code, 'lost');
  const row = (await readJob(spec.runId, spec.jobId))!;
  assert.equal(row.state, 'failed');
  assert.equal(row.result!.failure!.code, 'lost');
});
