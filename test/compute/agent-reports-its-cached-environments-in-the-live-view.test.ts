import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startAgent } from '../../lib/compute/agent';
import { enqueueJob } from '../../lib/compute/jobs-service';
import { targetLiveView } from '../../lib/compute/live';
import { jobSpec, useAgentScenario, waitFor, waitForResult } from './support';

// Issue 13's live view: an agent lists the environments it has built (lib/environments' cache), by the
// same key the step record keeps, and leaves the view when it stops.
const s = useAgentScenario('cached-envs');
const target = { name: 'envs', backend: 'agent' as const, pool: 'envs', environment: {} };

test('an agent lists the environment a job built in its live view, by the key on the job’s result and the name the step used, and leaves the view when stopped', async () => {
  // The job runner builds into SLUICE_ENV_CACHE_DIR; the agent lists the same folder by default.
  process.env.SLUICE_ENV_CACHE_DIR = join(s.tmp, 'envs');
  const agent = startAgent({ pool: 'envs', workDir: join(s.tmp, 'work'), presenceMs: 200, log: () => {} });
  try {
    await agent.ready;
    const before = await waitFor('the agent in the live view', async () => {
      const v = await targetLiveView(target);
      return v.agents?.find((a) => a.agentId === agent.agentId);
    });
    assert.deepEqual(before.cachedEnvironments, [], 'nothing built yet');

    // The step named a registered environment: the cache entry is listed under that name too.
    const spec = jobSpec('envs', {
      command: 'python -c "print(42)"',
      environment: { python: '>=3.8' },
      environmentName: 'py-base@2',
    });
    await enqueueJob(spec);
    const row = await waitForResult(spec, 120_000);
    assert.equal(row.result?.state, 'succeeded', JSON.stringify(row.result));
    const key = row.result!.environment!.hash.replace(/^sha256:/, '');

    const listed = await waitFor('the built environment in the live view', async () => {
      const a = (await targetLiveView(target)).agents?.find((x) => x.agentId === agent.agentId);
      return a?.cachedEnvironments.length ? a : undefined;
    });
    assert.deepEqual(listed.cachedEnvironments, [key.slice(0, 12)]);
    assert.equal(listed.environments?.[0]?.key, key);
    assert.match(listed.environments![0]!.python ?? '', /^3\./);
    assert.ok(listed.environments![0]!.sizeBytes > 0);
    assert.deepEqual(listed.environments![0]!.names, ['py-base@2']);
  } finally {
    await agent.stop();
  }
  const after = await targetLiveView(target);
  assert.equal(
    after.agents?.find((a) => a.agentId === agent.agentId),
    undefined,
    'a stopped agent leaves',
  );
});
