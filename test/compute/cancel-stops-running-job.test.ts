import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { readJob } from '../../lib/compute/jobs';
import { enqueueJob, requestCancel } from '../../lib/compute/jobs-service';
import {
  jobSpec,
  processAlive,
  startAgentProcess,
  waitFor,
  waitForResult,
  type AgentProcess,
} from './support';

let stack: TestStack;
let agent: AgentProcess;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-cancel-'));
  // A separate process: the cancel reaches it only through the job row, not the in-process signal.
  agent = startAgentProcess('cancels', stack.env, ['--work-dir', join(tmp, 'work'), '--heartbeat-ms', '200']);
});

after(async () => {
  await agent?.stop();
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('cancel of a running job kills its process group and records canceled', async () => {
  const pidFile = join(tmp, 'job.pid');
  const spec = jobSpec('cancels', { command: `echo $$ > ${pidFile}; sleep 300` });
  await enqueueJob(spec);
  const pid = Number(
    await waitFor('the job to start', async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim()),
  );
  assert.equal((await readJob(spec.runId, spec.jobId))!.state, 'running');

  const flagged = await requestCancel(spec.runId, spec.jobId);
  assert.equal(flagged!.cancelRequested, true);
  const row = await waitForResult(spec, 20_000);
  assert.equal(row.state, 'canceled');
  assert.equal(row.result!.failure!.code, 'canceled');
  assert.equal(processAlive(pid), false);
});

test('cancel of a queued job cancels it before any agent starts it', async () => {
  const spec = jobSpec('nobody-serves-this-pool');
  await enqueueJob(spec);
  const row = await requestCancel(spec.runId, spec.jobId);
  assert.equal(row!.state, 'canceled');
  assert.equal(row!.result!.failure!.code, 'canceled');
});
