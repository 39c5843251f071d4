import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { startAgent, type RunningAgent } from '../../lib/compute/agent';
import { enqueueJob } from '../../lib/compute/jobs';
import { jobSpec, processAlive, waitFor, waitForResult } from './support';

let stack: TestStack;
let agent: RunningAgent;
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-timeout-'));
  agent = startAgent({
    pool: 'timeouts',
    workDir: join(tmp, 'work'),
    heartbeatMs: 200,
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

test('a job over its timeout is killed with its whole process group, grandchildren included', async () => {
  const pids = join(tmp, 'grandchild.pid');
  // The shell starts a background grandchild that ignores nothing special, records its pid, and waits.
  const spec = jobSpec('timeouts', {
    command: `sleep 300 & echo $! > ${pids}; sleep 300`,
    timeoutMs: 1500,
  });
  await enqueueJob(spec);
  const grandchild = Number(
    await waitFor('the grandchild pid', async () => (await readFile(pids, 'utf8').catch(() => '')).trim()),
  );
  assert.ok(processAlive(grandchild), 'the grandchild runs while the job runs');

  const row = await waitForResult(spec);
  assert.equal(row.result!.state, 'failed');
  assert.equal(row.result!.failure!.code, 'timeout');
  assert.match(row.result!.failure!.message, /1500 ms/);
  await waitFor('the grandchild to be gone', async () => !processAlive(grandchild), 10_000);
});
