import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack';
import { startAgent, type RunningAgent } from '../../lib/compute/agent';
import { claimJob } from '../../lib/compute/jobs-runner';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { jobSpec, waitForResult } from './support';

let stack: TestStack;
let agents: RunningAgent[] = [];
let tmp: string;

before(async () => {
  stack = await startTestStack();
  tmp = await mkdtemp(join(os.tmpdir(), 'sluice-claim-'));
});

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await stack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('concurrent claims of one queued job: exactly one wins', async () => {
  const spec = jobSpec('claims-direct');
  await enqueueJob(spec);
  const outcomes = await Promise.all(
    ['a', 'b', 'c', 'd', 'e'].map((id) => claimJob(spec.runId, spec.jobId, id)),
  );
  assert.equal(outcomes.filter((o) => o.claimed).length, 1);
  assert.ok(outcomes.filter((o) => !o.claimed).every((o) => !o.claimed && o.reason === 'taken'));
});

test('two agents on one pool run each job exactly once', async () => {
  const ran = join(tmp, 'ran.txt');
  agents = ['one', 'two'].map((id) =>
    startAgent({ pool: 'claims', agentId: id, workDir: join(tmp, id), concurrency: 2, log: () => {} }),
  );
  await Promise.all(agents.map((a) => a.ready));
  const specs = Array.from({ length: 8 }, () =>
    jobSpec('claims', { command: `echo $SLUICE_JOB_ID >> ${ran}` }),
  );
  await Promise.all(specs.map((s) => enqueueJob(s)));
  const rows = await Promise.all(specs.map((s) => waitForResult(s)));
  assert.ok(rows.every((r) => r.result!.state === 'succeeded'));
  const lines = (await readFile(ran, 'utf8')).trim().split('\n').sort();
  assert.deepEqual(lines, specs.map((s) => s.jobId).sort());
});
