import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { jobSpec, processAlive, useAgentScenario, waitFor, waitForResult } from './support';

const scenario = useAgentScenario('timeout', { pool: 'timeouts', heartbeatMs: 200, killGraceMs: 500 });

test('a job over its timeout is killed with its whole process group, grandchildren included', async () => {
  const pids = join(scenario.tmp, 'grandchild.pid');
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
