import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { startAgent } from '../../lib/compute/agent';
import { readJob } from '../../lib/compute/jobs';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { jobSpec, processAlive, waitFor } from './support';

let stack: TestStack;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-stop-'));
});

after(async () => {
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('stopping an agent kills its running jobs and reports them lost, so they are retried elsewhere', async () => {
  const agent = startAgent({ pool: 'stopping', workDir: join(tmp, 'work'), killGraceMs: 500, log: () => {} });
  await agent.ready;
  const pidFile = join(tmp, 'job.pid');
  const spec = jobSpec('stopping', { command: `echo $$ > ${pidFile}; exec sleep 300` });
  await enqueueJob(spec);
  const pid = Number(
    await waitFor('the job to start', async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim()),
  );

  await agent.stop();
  const row = (await readJob(spec.runId, spec.jobId))!;
  assert.equal(row.state, 'failed');
  assert.equal(row.result!.failure!.code, 'lost');
  assert.match(row.result!.failure!.message, /was stopped/);
  assert.equal(processAlive(pid), false);
});
