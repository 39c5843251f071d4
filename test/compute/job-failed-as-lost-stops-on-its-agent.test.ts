import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readJob } from '../../lib/compute/jobs';
import { enqueueJob, markLost } from '../../lib/compute/jobs-service';
import { jobSpec, processAlive, useAgentScenario, waitFor } from './support';

const scenario = useAgentScenario('lost-late', { pool: 'late', heartbeatMs: 600_000, killGraceMs: 500 });

test('a job failed as lost by the orchestration is killed by the agent still running it, and stays lost', async () => {
  const pidFile = join(scenario.tmp, 'job.pid');
  const spec = jobSpec('late', { command: `echo $$ > ${pidFile}; exec sleep 300` });
  await enqueueJob(spec);
  const pid = Number(
    await waitFor('the job to start', async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim()),
  );
  await new Promise((r) => setTimeout(r, 20)); // let the heartbeat age past the 10 ms limit below

  const lost = await markLost(spec.runId, spec.jobId, 10);
  assert.equal(lost?.failure?.code, 'lost');
  await waitFor('the agent to kill the process', async () => !processAlive(pid), 10_000);
  await waitFor('the agent to finish the job', async () => scenario.agent.running() === 0, 10_000);
  const row = (await readJob(spec.runId, spec.jobId))!;
  assert.equal(row.state, 'failed');
  assert.equal(row.result!.failure!.code, 'lost', 'the late agent did not overwrite the lost result');
});
